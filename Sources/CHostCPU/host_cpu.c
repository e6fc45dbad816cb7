// Compiled for any x86-64 (no -target-cpu here), so that a build whose analysis was compiled
// for a newer processor can say so on an older one instead of dying on an illegal instruction.
#include "host_cpu.h"

int yusu_host_cpu_runs_haswell_code(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c")
        && __builtin_cpu_supports("movbe");
#else
    return 1;
#endif
}
