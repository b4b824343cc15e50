import StrataCore
import Foundation

/// The output directory of a multi-file job (`strata segment --out DIR`): every run's files
/// change as one unit, even when the process is killed (`kill -9`) at any point, and two runs on
/// the same directory never interleave.
///
/// Layout and protocol:
/// ```
/// DIR/.strata.lock                      flock(2)ed, exclusive, for the whole run
/// DIR/.generations/000042/...           one directory per published run (files fsynced)
/// DIR/current -> .generations/000042    the published run: switched by ONE rename(2)
/// DIR/assignments.csv -> current/assignments.csv   (one link per file of the current run)
/// ```
/// 1. The run's files are written into `DIR/.generations/.tmp-PID-N/` and fsynced; the
///    directory is renamed to the next generation number (invisible to readers).
/// 2. A link `DIR/NAME -> current/NAME` is made for every file of the new run.
/// 3. `current` is switched to the new generation by renaming a fresh symlink over it: before
///    this rename readers see exactly the old run, after it exactly the new one.
/// 4. Links to files the new run did not write are removed (they resolve to nothing already), and
///    every generation but the new and the previous current one is deleted.
/// SIGINT/SIGTERM wait until a publish in progress is complete (`TemporaryFiles.critical`). The
/// lock is taken when the run starts; a run that fails removes a directory it created.
/// A process killed anywhere leaves either the old set or the new set; what it leaves behind
/// (`.tmp-*` staging directories, temporary links) is removed by the next run, under the lock.
/// A reader that reads several files resolves `DIR/current` once (`realpath`) and reads from
/// there; `SegmentRunFiles.load` does.
///
/// A directory written by an older Strata (plain files) is taken over on the first run: its files
/// are hard-linked into generation 0 first, so the switch is atomic from then on too.
public final class RunDirectory {
    public let path: String
    private let lockFD: Int32
    /// True when this run created the directory (`abandon()` then removes it again).
    private let created: Bool

    static let lockName = ".strata.lock"
    static let generationsName = ".generations"
    static let currentName = "current"

    /// Takes the exclusive lock of `path`, creating the directory when needed.
    ///
    /// - Throws: `.unwritable` when the directory cannot be created or locked; `.locked` (exit 75)
    ///   when another run holds it, naming its process id.
    public init(path: String) throws {
        self.path = path
        created = !FileManager.default.fileExists(atPath: path)
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: path, reason: "cannot create the output directory")
        }
        let lockPath = path + "/" + Self.lockName
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrataError.unwritable(path: path, reason: "cannot open \(Self.lockName): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 31, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw StrataError.locked(path: path, reason: "another strata run (process \(holder)) is writing it; wait for it or choose another --out")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        lockFD = fd
        removeLeftovers()
    }

    deinit { close(lockFD) }

    /// A run that failed before publishing: if it created the directory, the directory goes
    /// again (a failed run leaves nothing new behind); its staging directories are removed.
    public func abandon() {
        guard created else { return }
        let gens = path + "/" + Self.generationsName
        let names = (try? FileManager.default.contentsOfDirectory(atPath: gens)) ?? []
        guard names.allSatisfy({ $0.hasPrefix(".tmp-") }) else { return }
        try? FileManager.default.removeItem(atPath: gens)
        unlink(path + "/" + Self.lockName)
        rmdir(path)
    }

    /// A fresh staging directory for this run's files (removed on SIGINT/SIGTERM and by the next
    /// run after a kill).
    public func stagingDirectory() throws -> String {
        let gens = path + "/" + Self.generationsName
        let dir = gens + "/.tmp-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1e6))"
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: path, reason: "cannot create a staging directory")
        }
        TemporaryFiles.shared.register(dir)
        return dir
    }

    /// Publishes the files of `staging` (already written and fsynced) as the current run.
    ///
    /// - Parameter names: the file names the run wrote (in `staging`); `knownNames`: every name
    ///   a run of this job may write (links to those of them not written now are removed).
    /// - Throws: `.unwritable` (the previous run then stays current).
    public func publish(staging: String, names: [String], knownNames: [String]) throws {
        try TemporaryFiles.shared.critical { try publishSteps(staging: staging, names: names, knownNames: knownNames) }
    }

    private func publishSteps(staging: String, names: [String], knownNames: [String]) throws {
        let gens = path + "/" + Self.generationsName
        try adoptPlainFiles(knownNames: knownNames)
        FailurePoint.hit("publish:staged")
        // 1. The staging directory becomes the next generation.
        let previous = currentGeneration()
        let next = (generations().last ?? 0) + 1
        let genName = String(format: "%06d", next)
        try check(rename(staging, gens + "/" + genName), "cannot publish the new run")
        TemporaryFiles.shared.unregister(staging)
        fsyncDirectory(gens)
        FailurePoint.hit("publish:generation")
        // 2. A link per file, through `current`.
        for name in names { try link(name: name) }
        fsyncDirectory(path)
        FailurePoint.hit("publish:links")
        // 3. The switch.
        try switchCurrent(to: Self.generationsName + "/" + genName)
        fsyncDirectory(path)
        FailurePoint.hit("publish:switched")
        // 4. Clean-up: links to files this run did not write, and old generations.
        for name in knownNames where !names.contains(name) { unlink(path + "/" + name) }
        for g in generations() where g != next && g != previous { try? FileManager.default.removeItem(atPath: gens + "/" + String(format: "%06d", g)) }
    }

    /// The directory holding the current run's files: `DIR/current` resolved, or `DIR` itself
    /// for a directory of plain files (older Strata, or hand-made).
    public static func currentFiles(of path: String) -> String {
        let current = path + "/" + currentName
        var st = stat()
        if lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK, let real = realpath(current, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        return path
    }

    // MARK: steps

    /// The generation `current` points to, if any.
    private func currentGeneration() -> Int? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path + "/" + Self.currentName, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return Int(String(cString: Array(buf[0..<n]) + [0]).split(separator: "/").last ?? "")
    }

    /// Published generation numbers, ascending.
    private func generations() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path + "/" + Self.generationsName)) ?? []
        return names.compactMap { $0.count == 6 ? Int($0) : nil }.sorted()
    }

    /// An older layout (plain files, no `current`): its files become generation 0, so readers
    /// keep seeing them until the switch.
    private func adoptPlainFiles(knownNames: [String]) throws {
        var st = stat()
        if lstat(path + "/" + Self.currentName, &st) == 0 { return }
        let plain = knownNames.filter { name in lstat(path + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG }
        if plain.isEmpty { return }
        let gen0 = path + "/" + Self.generationsName + "/000000"
        try? FileManager.default.removeItem(atPath: gen0)
        do { try FileManager.default.createDirectory(atPath: gen0, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: path, reason: "cannot take over the existing outputs")
        }
        for name in plain {
            if Glibc.link(path + "/" + name, gen0 + "/" + name) != 0 {
                try check(copyfile(path + "/" + name, gen0 + "/" + name), "cannot take over \(name)")
            }
        }
        fsyncDirectory(gen0)
        try switchCurrent(to: Self.generationsName + "/000000")
        for name in plain { try link(name: name) }
        fsyncDirectory(path)
    }

    /// `DIR/name -> current/name`, replacing whatever is there (a plain file of the old layout
    /// was adopted into generation 0 first; the same link is left alone).
    private func link(name: String) throws {
        let target = Self.currentName + "/" + name
        let final = path + "/" + name
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(final, &buf, buf.count - 1)
        if n > 0, String(cString: Array(buf[0..<n]) + [0]) == target { return }
        let tmp = path + "/.\(name).link-\(getpid())"
        unlink(tmp)
        try check(symlink(target, tmp), "cannot link \(name)")
        if rename(tmp, final) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw StrataError.unwritable(path: final, reason: "cannot link it to the new run: \(reason); the previous run stays current")
        }
    }

    private func switchCurrent(to target: String) throws {
        let tmp = path + "/.current.tmp-\(getpid())"
        unlink(tmp)
        try check(symlink(target, tmp), "cannot switch to the new run")
        if rename(tmp, path + "/" + Self.currentName) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw StrataError.unwritable(path: path, reason: "cannot switch to the new run: \(reason); the previous run stays current")
        }
    }

    /// What killed runs left: staging directories and temporary links (we hold the lock, so no
    /// other run is using them).
    private func removeLeftovers() {
        let gens = path + "/" + Self.generationsName
        for name in (try? FileManager.default.contentsOfDirectory(atPath: gens)) ?? [] where name.hasPrefix(".tmp-") {
            try? FileManager.default.removeItem(atPath: gens + "/" + name)
        }
        // Generations after the current one were never switched to (a run killed while
        // publishing): they are not runs anyone saw.
        let current = currentGeneration() ?? -1
        for g in generations() where g > current { try? FileManager.default.removeItem(atPath: gens + "/" + String(format: "%06d", g)) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where name.hasPrefix(".current.tmp-") || (name.hasPrefix(".") && name.contains(".link-")) || (name.hasPrefix(".") && name.contains(".tmp-")) {
            unlink(path + "/" + name)
        }
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != 0 { throw StrataError.unwritable(path: path, reason: "\(what): \(String(cString: strerror(errno))); the previous run stays current") }
    }

    private func copyfile(_ from: String, _ to: String) -> Int32 {
        (try? FileManager.default.copyItem(atPath: from, toPath: to)) == nil ? -1 : 0
    }
}

/// fsync(2) of a directory, so renames inside it survive a crash of the machine.
func fsyncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    if fd >= 0 { _ = fsync(fd); close(fd) }
}
