// libsndfile, reached from Swift. Debian: libsndfile1-dev.
#ifndef YUSU_CSNDFILE_SHIM_H
#define YUSU_CSNDFILE_SHIM_H
#include <sndfile.h>

/// SF_FORMAT_* masks are plain macros that Swift imports as Int32 constants already;
/// these wrappers only spell the two we combine, so call sites stay readable.
static inline int yusu_sf_major_format(int format) { return format & SF_FORMAT_TYPEMASK; }
static inline int yusu_sf_subtype(int format) { return format & SF_FORMAT_SUBMASK; }
#endif
