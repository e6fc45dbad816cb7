// FFTW 3, single precision (fftw3f). Debian: libfftw3-dev.
// Only fftwf_execute* is thread-safe; plans are made once under a lock (see FFT.swift).
#ifndef YUSU_CFFTW_SHIM_H
#define YUSU_CFFTW_SHIM_H
#include <fftw3.h>
#endif
