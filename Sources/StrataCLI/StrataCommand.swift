import ArgumentParser
import Strata

@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Customer segmentation and profiling engine.",
        discussion: """
            Exit codes: 0 success, 3 drift alerts with `monitor --fail-on-drift`, 64 bad usage or option, 65 bad input data (the message names \
            file, line and column), 66 unreadable input, 69 --device cuda or opencl without a usable device, 70 numerical failure, 73 output not \
            writable, 74 an input changed while it was read (a memory-mapped .npy that shrank), \
            75 the output directory is locked by another run, 130/143 stopped by SIGINT/SIGTERM. \
            Outputs are written to temporary files and renamed into place (segment publishes a \
            whole run with one rename), so a failed or killed run leaves earlier outputs untouched.
            """,
        version: Strata.version,
        subcommands: [KMeansCommand.self, GMMCommand.self, PCACommand.self, RFMCommand.self, CLVCommand.self, ABCCommand.self, PredictCommand.self, ScoreCommand.self, SweepCommand.self, HierarchicalCommand.self, DBSCANCommand.self, HDBSCANCommand.self, DemoCommand.self, SegmentCommand.self, MigrateCommand.self, CampaignCommand.self, MonitorCommand.self, ConvertCommand.self, UpdateCommand.self, PartialStatsCommand.self, KPrototypesCommand.self, KModesCommand.self]
    )

    /// As ArgumentParser's `main`, but a usage error found while parsing (`--k 0`, an unknown
    /// option) also gives the `--json` error object on stdout when `--json` was asked for.
    /// `--input -` / `--customers -` (feature tables): standard input copied once to a temporary
    /// file (`StandardInput.spool`) whose path replaces the `-`. Order logs (`--transactions -`)
    /// stream from stdin without a copy; `--help` never reads stdin.
    static func standardInputSpooled(_ args: [String]) -> [String] {
        guard !args.contains("--help") && !args.contains("-h") else { return args }
        var out = args
        for i in out.indices {
            let wantsNext = (out[i] == "--input" || out[i] == "--customers") && i + 1 < out.count && out[i + 1] == "-"
            let inline = out[i] == "--input=-" || out[i] == "--customers=-"
            guard wantsNext || inline else { continue }
            do {
                let path = try StandardInput.spool()
                if inline { out[i] = out[i].dropLast() + path } else { out[i + 1] = path }
            } catch let e as StrataError {
                Report.fail(e.description, code: e.exitCode, json: args.contains("--json"))
            } catch { Report.fail("\(error)", code: 66, json: args.contains("--json")) }
        }
        return out
    }

    static func main() {
        do {
            // Passwords written in postgresql:// URLs go to the environment before anything else.
            var command = try parseAsRoot(standardInputSpooled(CommandLine.arguments.dropFirst().map(PostgresURL.hidingPassword)))
            try command.run()
        } catch {
            let code = exitCode(for: error).rawValue
            if code != 0 && CommandLine.arguments.contains("--json") {
                let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
                Report.json(Report.ErrorResult(error: .init(message: message, exitCode: Int(code))))
            }
            exit(withError: error)
        }
    }
}
