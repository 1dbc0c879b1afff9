import Foundation
import MastheadFuzzing

/// `masthead-fuzz TARGET [libFuzzer options…]`: fuzzes one parser (markdown, filter, consent,
/// form, image). Built by `make fuzz` with libFuzzer (`-sanitize=fuzzer -DLIBFUZZER`), it is
/// coverage-guided; built normally, it runs a seeded random mutation loop instead
/// (`masthead-fuzz TARGET [ITERATIONS] [SEED]`).
@main
struct MastheadFuzz {
    static func main() {
        let arguments = CommandLine.arguments
        guard let target = (ProcessInfo.processInfo.environment["MASTHEAD_FUZZ_TARGET"] ?? arguments.dropFirst().first).flatMap(FuzzTarget.init(rawValue:)) else {
            FileHandle.standardError.write(Data("usage: MASTHEAD_FUZZ_TARGET=<\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> masthead-fuzz [options]\n".utf8))
            exit(2)
        }
        #if LIBFUZZER
        selected = target
        var count = CommandLine.argc
        var values = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&count, &values, fuzzOne))
        #else
        let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
        var mutator = SeededMutator(seed: arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : 1)
        let seeds = target.seeds
        var input = seeds[0]
        for iteration in 0..<iterations {
            input = iteration % 50 == 0 ? seeds[iteration / 50 % seeds.count] : mutator.mutate(input, splicingWith: seeds)
            target.run(input)
        }
        print("\(target.rawValue): \(iterations) inputs, no failure")
        #endif
    }
}

#if LIBFUZZER
nonisolated(unsafe) var selected: FuzzTarget = .markdown

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The entry libFuzzer calls for each input (also when libFuzzer's own `main` runs).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let target = ProcessInfo.processInfo.environment["MASTHEAD_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:)) ?? selected
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif
