#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The installed systemd units as the install test can use them on a machine whose PID 1 is
not systemd: read a unit's settings, build the command line and environment systemd would
give its ExecStart= (EnvironmentFile= and Environment= expanded the way systemd does:
$VAR splits into words, ${VAR} stays one), and check an strace log of the program run that
way against the unit's sandbox.

  unit_sandbox.py get UNIT KEY              each value of KEY, one a line
  unit_sandbox.py argv UNIT [--map A=B]...  ExecStart's arguments, one a line
  unit_sandbox.py env UNIT [--map A=B]...   the environment (KEY=VALUE lines) from
                                            Environment=, EnvironmentFile=, UnsetEnvironment=
  unit_sandbox.py check UNIT TRACE [--map A=B]...
      TRACE is `strace -f -y -o TRACE` of the program (after its execve). Checked: every
      system call is in SystemCallFilter= (expanded by `systemd-analyze syscall-filter`,
      @default always allowed); every socket family in RestrictAddressFamilies=; every
      write (open for writing, mkdir, unlink, rename, chmod, chown, bind of a Unix socket,
      ...) under ReadWritePaths=, PrivateTmp='s /tmp, /dev, or the process's own /proc
      entries (ProtectSystem=strict, ProtectKernelTunables=); every device opened allowed
      by DeviceAllow= and DevicePolicy=closed, or PrivateDevices=; no /proc file outside
      the process's own with ProcSubset=pid; no writable and executable mapping and no
      mprotect(PROT_EXEC) with MemoryDenyWriteExecute=; no real-time scheduling with
      RestrictRealtime=. Prints one summary line, each violation, exit 1 if any.

--map A=B rewrites a path that starts with A (the staged installation's DESTDIR) to B and
back: the units name /usr/local/bin, /run/fastgate, ...; the test runs them from DESTDIR.
"""
import os
import re
import shlex
import signal
import subprocess
import sys

LIST_KEYS = {"SystemCallFilter", "RestrictAddressFamilies", "ReadWritePaths", "DeviceAllow",
             "CapabilityBoundingSet", "SupplementaryGroups", "UnsetEnvironment", "Wants",
             "After", "Requires", "BindsTo", "PartOf", "Before", "Requisite"}


def parse_unit(path):
    """{key: [values]}; list settings accumulate, an empty assignment resets."""
    out = {}
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if value == "":
            out[key] = []
        elif key in LIST_KEYS and key != "SystemCallFilter":
            out.setdefault(key, []).extend(value.split())
        else:
            out.setdefault(key, []).append(value)
    return out


def mapper(maps):
    def fwd(p):
        for a, b in maps:
            if p == a or p.startswith(a.rstrip("/") + "/"):
                return b + p[len(a):]
        return p
    return fwd


def env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().replace("\\\n", " ").splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            key, sep, value = line.partition("=")
            if not sep:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def unit_env(unit, fwd):
    env = {}
    for e in unit.get("Environment", []):
        for word in shlex.split(e):
            k, _, v = word.partition("=")
            env[k] = v
    for ef in unit.get("EnvironmentFile", []):
        optional = ef.startswith("-")
        p = fwd(ef.lstrip("-"))
        if os.path.exists(p):
            env.update(env_file(p))
        elif not optional:
            sys.exit("EnvironmentFile %s does not exist" % p)
    for k in unit.get("UnsetEnvironment", []):
        env.pop(k, None)
    return {k: fwd(v) for k, v in env.items()}


def unit_argv(unit, env, fwd):
    (line,) = unit["ExecStart"]
    argv = []
    for word in shlex.split(line):
        m = re.fullmatch(r"\$(\w+)", word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{(\w+)\}", lambda g: env.get(g.group(1), ""), word))
    return [fwd(a) for a in argv]


# --- the sandbox checks --------------------------------------------------------------------

def syscall_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and cur is not None and not line.strip().startswith("#"):
            cur.append(line.strip())
        elif not line.strip():
            cur = None
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            out |= expand(groups.get(n, []), groups, seen)
        else:
            out.add(n)
    return out


def allowed_syscalls(unit):
    groups = syscall_groups()
    allow = None
    for entry in unit.get("SystemCallFilter", []):
        deny = entry.startswith("~")
        names = expand(entry.lstrip("~").split(), groups)
        if allow is None:
            if deny:
                return None   # a deny list alone: not what these units use
            allow = names | expand(["@default"], groups)
        elif deny:
            allow -= names
        else:
            allow |= names
    return allow


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
PATH_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


def trace_calls(path):
    """(pid, name, args-and-result) of every call; a call another thread interrupted
    ("<unfinished ...>", then "<... name resumed>") is joined back into one."""
    calls, pending = [], {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            pid = m.group(1)
            if m.group(4):
                args = m.group(5)
                if args.endswith("<unfinished ...>"):
                    pending[pid] = len(calls)
                    args = args[:-len("<unfinished ...>")].rstrip()
                calls.append((pid, m.group(4), args))
            elif pid in pending:
                i = pending.pop(pid)
                calls[i] = (pid, calls[i][1], calls[i][2] + m.group(3))
    return calls


def ok_result(args):
    return not re.search(r"\) += -1 ", args)


def norm(p, back):
    p = back(p)
    if p.startswith("/var/run/") or p == "/var/run":
        p = "/run" + p[len("/var/run"):]
    return os.path.normpath(p)


def under(p, roots):
    return any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots)


WRITE_CALLS = {"mkdir", "mkdirat", "unlink", "unlinkat", "rmdir", "rename", "renameat",
               "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat",
               "chown", "lchown", "fchownat", "mknod", "mknodat", "truncate", "utimensat"}
DIRFD = re.compile(r"^\s*(?:AT_FDCWD(?:<([^>]*)>)?|\d+<([^>]*)>)\s*,")


def paths_of(name, args):
    """The absolute paths a call names (strace -y shows a directory descriptor's path; the
    working directory is /, as systemd's)."""
    strings = PATH_ARG.findall(args)
    if name in ("symlink", "symlinkat"):
        strings = strings[-1:]   # the first is the link's text, not a path written
    base = "/"
    m = DIRFD.match(args)
    if name.endswith("at") or name in ("openat2", "renameat2"):
        if m and (m.group(1) or m.group(2)):
            base = m.group(1) or m.group(2)
    return [os.path.join(base, p) for p in strings]
CLOSED_DEVICES = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                  "/dev/tty", "/dev/ptmx", "/dev/pts/ptmx"}
PRIVATE_DEVICES = CLOSED_DEVICES | {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages",
                                    "/dev/log", "/dev/stdin", "/dev/stdout", "/dev/stderr"}


def device_ok(unit, dev):
    if dev.startswith(("/dev/hugepages/", "/dev/shm/", "/dev/mqueue/")):
        return True   # files on a mounted file system, not device nodes
    if unit.get("PrivateDevices", ["no"])[-1] == "yes":
        return dev in PRIVATE_DEVICES or dev.startswith("/dev/pts/")
    if unit.get("DevicePolicy", ["auto"])[-1] != "closed" and not unit.get("DeviceAllow"):
        return True
    allow = set(unit.get("DeviceAllow", []))
    if dev in CLOSED_DEVICES or dev in allow:
        return True
    # char-NAME: a major number by its name in /proc/devices
    if dev.startswith("/dev/vfio/") and "char-vfio" in allow:
        return True
    return False


def check(unit, trace, fwd, back):
    calls = trace_calls(trace)
    # only what the program did: from its execve on (setpriv's own set-up comes before)
    start = max((i for i, c in enumerate(calls) if c[1] == "execve" and ok_result(c[2])),
                default=0)
    calls = calls[start + 1:]
    bad, tolerated = [], []
    names = {c[1] for c in calls}
    allow = allowed_syscalls(unit)
    errno_set = unit.get("SystemCallErrorNumber", [""])[-1]
    if allow is not None:
        for n in sorted(names - allow):
            # With SystemCallErrorNumber= a call outside the filter fails instead of killing
            # the process: fine when every such call in this run failed and it went on.
            if errno_set and all(not ok_result(a) for _, c, a in calls if c == n):
                tolerated.append(n)
                continue
            bad.append("system call %s is outside SystemCallFilter=" % n)
    fams = set(unit.get("RestrictAddressFamilies", []))
    seen_fams = set()
    rw = [norm(p.lstrip("-"), lambda x: x) for p in unit.get("ReadWritePaths", [])]
    strict = unit.get("ProtectSystem", ["no"])[-1] == "strict"
    writable = rw + ["/dev"]
    if unit.get("PrivateTmp", ["no"])[-1] == "yes":
        writable += ["/tmp", "/var/tmp"]
    pids = {c[0] for c in calls}
    own_proc = ["/proc/self", "/proc/thread-self"] + ["/proc/" + p for p in pids]
    writes, devices, procs = set(), set(), set()
    for pid, name, args in calls:
        paths = [norm(p, back) for p in paths_of(name, args)]
        if name in ("socket", "socketpair"):
            fam = args.split(",", 1)[0].strip()
            seen_fams.add(fam)
            if fams and fam not in fams:
                bad.append("%s(%s) outside RestrictAddressFamilies=" % (name, fam))
        targets = []
        if name in ("open", "openat", "creat", "openat2") and paths:
            p = paths[0]
            if p.startswith("/dev/") and ok_result(args) and "O_DIRECTORY" not in args:
                devices.add(p)
            if p.startswith("/proc/") and not under(p, own_proc):
                procs.add(p)
            if name == "creat" or WRITE_FLAGS.search(args):
                targets = [p]
        elif name in WRITE_CALLS or (name == "bind" and "sun_path=" in args):
            targets = paths
        for target in targets:
            writes.add(target)
            if strict and not under(target, writable + own_proc):
                bad.append("%s %s: outside ReadWritePaths= (ProtectSystem=strict)" % (name, target))
            if under(target, ["/proc/sys", "/sys"]) and \
                    unit.get("ProtectKernelTunables", ["no"])[-1] == "yes":
                bad.append("%s %s: ProtectKernelTunables= makes it read-only" % (name, target))
        if unit.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes":
            if name == "mmap" and "PROT_WRITE" in args and "PROT_EXEC" in args:
                bad.append("mmap writable and executable (MemoryDenyWriteExecute=)")
            if name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in args:
                bad.append("%s(PROT_EXEC) (MemoryDenyWriteExecute=)" % name)
        if unit.get("RestrictRealtime", ["no"])[-1] == "yes" and \
                name in ("sched_setscheduler", "sched_setattr") and re.search(r"SCHED_(FIFO|RR|DEADLINE)", args):
            bad.append("%s real-time (RestrictRealtime=)" % name)
    for d in sorted(devices):
        if not device_ok(unit, d):
            bad.append("device %s not allowed (DeviceAllow=, DevicePolicy=, PrivateDevices=)" % d)
    if unit.get("ProcSubset", ["all"])[-1] == "pid":
        for p in sorted(procs):
            bad.append("%s: hidden by ProcSubset=pid" % p)
    print("%d calls, %d system calls, families %s, %d paths written, devices %s" %
          (len(calls), len(names), " ".join(sorted(seen_fams)) or "-", len(writes),
           " ".join(sorted(devices)) or "-"))
    if tolerated:
        print("  outside the filter, failing with %s as they failed here: %s" %
              (errno_set, " ".join(tolerated)))
    for b in sorted(set(bad)):
        print("  violation: " + b)
    return 1 if bad else 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `... | grep -q` may stop reading early
    args = sys.argv[1:]
    maps = []
    while "--map" in args:
        i = args.index("--map")
        a, _, b = args[i + 1].partition("=")
        maps.append((a, b))
        del args[i:i + 2]
    fwd = mapper(maps)
    back = mapper([(b, a) for a, b in maps])
    if len(args) < 2:
        sys.exit(__doc__)
    cmd, unit = args[0], parse_unit(args[1])
    if cmd == "get" and len(args) == 3:
        for v in unit.get(args[2], []):
            print(v)
    elif cmd == "argv":
        print("\n".join(unit_argv(unit, unit_env(unit, fwd), fwd)))
    elif cmd == "env":
        for k, v in unit_env(unit, fwd).items():
            print("%s=%s" % (k, v))
    elif cmd == "check" and len(args) == 3:
        return check(unit, args[2], fwd, back)
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
