#!/usr/bin/env python3
"""Active-listening errors per call (development aid, not product): the truth's long
customer turns (acknowledged or not) beside the listening rule's evidence.
usage: listening_detail.py [--cli PATH] [--calls DIR]"""
import argparse, glob, json, os, subprocess
ap = argparse.ArgumentParser()
ap.add_argument('--cli', default=os.environ.get('YUSU_CLI', '.build/release/yusu'))
ap.add_argument('--calls', default=os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev-listening/calls'))
a = ap.parse_args()
for tf in sorted(glob.glob(os.path.join(a.calls, '*.truth.json'))):
    t = json.load(open(tf))
    doc = json.loads(subprocess.run([a.cli, 'score', os.path.join(a.calls, t['file']), '--format', 'json',
                                     '--agent-channel', str(t['channels']['agent'])], capture_output=True, text=True).stdout)
    rule = next(v for v in doc['verdicts'] if v['rule'] == 'listening')
    print(t['file'])
    for x in t.get('long_customer_turns', []):
        print(f"  truth {x['start_s']:7.2f}-{x['end_s']:7.2f} {'ack' if x['acknowledged'] else 'SILENT'}")
    for e in rule['evidence']:
        print(f"  found {e['start_s']:7.2f}-{e['end_s']:7.2f} {e['note']}")
    bcs = [round(b['at_s'], 2) for b in doc.get('backchannels') or [] if b['by'] == 'agent']
    print('  agent backchannels', bcs, ' truth', [round(b['at_s'], 2) for b in t['events']['backchannels']])
