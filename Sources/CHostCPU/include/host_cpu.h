// What this machine's processor can run, asked of the processor itself (CPUID).
#ifndef YUSU_HOST_CPU_H
#define YUSU_HOST_CPU_H

/// 1 when this processor runs code compiled for LLVM's `haswell` level (AVX, AVX2, FMA,
/// BMI1, BMI2, F16C, MOVBE: Intel from 2013, AMD from 2015), 0 when it does not. 1 on
/// processors that are not x86-64, where no such build is made.
int yusu_host_cpu_runs_haswell_code(void);

#endif
