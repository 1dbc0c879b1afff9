import Foundation
import MastheadFuzzing
import Testing

/// The fuzz targets, run everywhere: on their seeds, on every input that once broke something
/// (`Regressions/<target>-*.bin`), and on a fixed stream of mutations. `make fuzz` runs the same
/// targets under libFuzzer for longer; what it finds is added to `Regressions/`.
@Suite struct FuzzingTests {
    static let regressions: URL = Bundle.module.resourceURL!.appendingPathComponent("Regressions")

    @Test(arguments: FuzzTarget.allCases)
    func inputsThatOnceBrokeAParserAreHandled(_ target: FuzzTarget) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.regressions.path).filter { $0.hasPrefix(target.rawValue + "-") }
        for file in files {
            target.run(Array(try Data(contentsOf: Self.regressions.appendingPathComponent(file))))
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedInputsNeverBreakAParser(_ target: FuzzTarget) {
        var mutator = SeededMutator(seed: 2026)
        let seeds = target.seeds
        var input = seeds[0]
        for iteration in 0..<1_500 {
            input = iteration % 50 == 0 ? seeds[iteration / 50 % seeds.count] : mutator.mutate(input, splicingWith: seeds)
            target.run(input)
        }
    }
}
