import CHostCPU
import Foundation
import Testing

/// The processor check that a release build compiled for `haswell` runs before anything else
/// (Yusu.processorProblem): it must answer as the kernel's own reading of CPUID does, or a
/// build would refuse a machine that runs it, or let one die on an illegal instruction.
@Suite("The processor check agrees with the kernel")
struct HostCPUTests {
    @Test("yusu_host_cpu_runs_haswell_code answers as /proc/cpuinfo's flags do")
    func agreesWithCPUInfo() throws {
        #if arch(x86_64) && os(Linux)
            let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            let flags = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags") })
            let has = Set(flags.split(separator: " ").map(String.init))
            let expected = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"].allSatisfy(has.contains)
            #expect((yusu_host_cpu_runs_haswell_code() != 0) == expected)
        #elseif !arch(x86_64)
            // No such build is made off x86-64: the check lets every processor run.
            #expect(yusu_host_cpu_runs_haswell_code() == 1)
        #endif
    }
}
