// The MP3 decoder's notes, kept off the terminal and handed to Yusu instead.
#ifndef YUSU_DECODER_NOTES_H
#define YUSU_DECODER_NOTES_H

/// The last note of an MP3 decoder that failed on this thread, in an open or a read (libmpg123's
/// own words, such as "Invalid MPEG header" or "Resync failed"), or "" when none did since
/// `yusu_decoder_notes_clear`.
const char *yusu_decoder_notes_last(void);

/// Forgets the last note (call before opening a file).
void yusu_decoder_notes_clear(void);

#endif
