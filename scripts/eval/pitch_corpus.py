"""Loads the dev pitch corpus beside `yusu frames` output (shared by the pitch dev aids)."""
import csv, io, os, subprocess
import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev')


def files(cli, part):
    """Yields (name, ref, est, idx, frames) per file of `part` ('pitch' or 'pitch_tel'):
    the laryngograph reference F0 every 15 ms, the estimate at each reference time (the
    first frame at or after it, as evaluate.py samples), the frame index it came from, and
    the channel-0 frames as rows of (time_s, f0_hz)."""
    root = os.path.join(ROOT, part)
    for f in sorted(os.listdir(root)):
        if not f.endswith('.wav'):
            continue
        ref = np.loadtxt(os.path.join(root, f[:-4] + '.f0ref'))
        rt = np.arange(len(ref)) * 0.015
        out = subprocess.run([cli, 'frames', os.path.join(root, f)], capture_output=True, text=True).stdout
        a = np.array([(float(r['time_s']), float(r['f0_hz'])) for r in csv.DictReader(io.StringIO(out)) if r['channel'] == '0'])
        idx = np.clip(np.searchsorted(a[:, 0], rt), 0, len(a) - 1)
        yield f, ref, a[idx, 1], idx, a
