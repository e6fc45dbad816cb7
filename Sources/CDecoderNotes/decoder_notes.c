// libsndfile decodes MP3 with libmpg123, and makes no handle of it quiet: libmpg123 then
// writes its own notes ("Note: Illegal Audio-MPEG-Header…", "Warning: Xing stream size
// off…", "[id3.c:…] error: Whoa!…") to the process's stderr, two to five lines for a
// corrupt file, where Yusu promises one line. The notes belong in Yusu's reason, not on
// the terminal or in a service's log.
//
// Method: symbol interposition. The executable defines mpg123_new, mpg123_read and
// mpg123_delete; the dynamic linker finds an executable's definitions before a library's,
// so libsndfile's calls arrive here and go on to the real ones (dlsym RTLD_NEXT).
// mpg123_new sets MPG123_QUIET on each handle (libmpg123's flag: "suppress any
// printouts"). When a read fails, or a handle that failed is deleted (a failed open), the
// handle's own words (mpg123_strerror) are kept as this thread's note, which the reader
// folds into its reason. libsndfile calls these on the thread that opened or read the
// file, inside that open or read, so the note belongs to that call.
#define _GNU_SOURCE
#include "decoder_notes.h"

#include <dlfcn.h>
#include <mpg123.h>
#include <stdio.h>
#include <string.h>

static __thread char last_note[200];

typedef mpg123_handle *(*new_fn)(const char *, int *);
typedef void (*delete_fn)(mpg123_handle *);
typedef int (*read_fn)(mpg123_handle *, void *, size_t, size_t *);

static void keep_note(mpg123_handle *handle) {
    if (handle == NULL || mpg123_errcode(handle) == MPG123_OK) return;
    const char *text = mpg123_strerror(handle);
    snprintf(last_note, sizeof last_note, "%s", text != NULL ? text : "");
}

mpg123_handle *mpg123_new(const char *decoder, int *error) {
    static new_fn real_new = NULL;
    if (real_new == NULL) real_new = (new_fn)dlsym(RTLD_NEXT, "mpg123_new");
    if (real_new == NULL) {
        if (error != NULL) *error = MPG123_ERR;
        return NULL;
    }
    mpg123_handle *handle = real_new(decoder, error);
    if (handle != NULL) mpg123_param(handle, MPG123_ADD_FLAGS, MPG123_QUIET, 0.0);
    return handle;
}

void mpg123_delete(mpg123_handle *handle) {
    static delete_fn real_delete = NULL;
    if (real_delete == NULL) real_delete = (delete_fn)dlsym(RTLD_NEXT, "mpg123_delete");
    keep_note(handle);
    if (real_delete != NULL) real_delete(handle);
}

int mpg123_read(mpg123_handle *handle, void *out, size_t size, size_t *done) {
    static read_fn real_read = NULL;
    if (real_read == NULL) real_read = (read_fn)dlsym(RTLD_NEXT, "mpg123_read");
    if (real_read == NULL) return MPG123_ERR;
    int status = real_read(handle, out, size, done);
    if (status != MPG123_OK && status != MPG123_DONE && status != MPG123_NEW_FORMAT) keep_note(handle);
    return status;
}

const char *yusu_decoder_notes_last(void) { return last_note; }

void yusu_decoder_notes_clear(void) { last_note[0] = 0; }
