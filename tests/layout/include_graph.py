#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads the include graph of fastgate's C sources and fails on any import circle.

usage: include_graph.py ROOT            check the tree (exit 1 on a circle, with the cycle)
       include_graph.py --self-test     prove the checker finds planted circles

A module is a .c file with its .h (dataplane/service/service.{c,h}); module A imports B
when a file of A includes B's header. A folder imports another when one of its modules
does. Both graphs must be acyclic, and every quoted include must name exactly one header
of the project or be a system header (<...> or absent from the tree). The layering of the
data plane's rooms (top -> api -> service -> worker -> wg) then follows from the folder
graph having no circle, and the build enforces it too (dataplane/meson.build).

A private header (named *_state.h or *_priv.h: a struct layout or internals) is included
only from its own folder or from the set-up code in a folder above it (dataplane/dp.c may
lay out the service's state; dataplane/api/ may not).
"""
import os
import re
import sys
import tempfile

SOURCE_DIRS = ("common", "kni", "dataplane", "controlplane", "bench")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def scan(root):
    files = []
    for top in SOURCE_DIRS:
        for d, _, names in os.walk(os.path.join(root, top)):
            files += [os.path.relpath(os.path.join(d, n), root) for n in names if n.endswith((".c", ".h"))]
    return sorted(files)


def resolve(root, files):
    """Returns (edges file -> set of files, errors)."""
    by_base = {}
    for f in files:
        if f.endswith(".h"):
            by_base.setdefault(os.path.basename(f), []).append(f)
    edges, errors = {}, []
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        out = set()
        for inc in INCLUDE_RE.findall(text):
            local = os.path.normpath(os.path.join(os.path.dirname(f), inc))
            if local in files:
                out.add(local)
                continue
            cands = by_base.get(os.path.basename(inc), [])
            cands = [c for c in cands if c.endswith(inc)]
            if len(cands) > 1:
                errors.append(f"{f}: \"{inc}\" is ambiguous: {', '.join(cands)}")
            elif cands:
                out.add(cands[0])
        edges[f] = out
        for g in out:
            if private(g) and not within(os.path.dirname(f), os.path.dirname(g)):
                errors.append(f"{f}: includes the private header {g}")
    return edges, errors


def private(f):
    return f.endswith(("_state.h", "_priv.h"))


def within(folder, owner):
    """folder is owner itself or one of its ancestors."""
    return owner == folder or owner.startswith(folder + "/")


def module(f):
    return os.path.splitext(f)[0]


def cycles(graph):
    """Tarjan's strongly connected components of size > 1 (or a self loop)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp):
    """One concrete circle through a component, for the message."""
    comp = set(comp)
    start = min(comp)
    prev, todo = {start: None}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(graph.get(v, ())):
            if w == start:
                p = [v]
                while prev[p[-1]] is not None:
                    p.append(prev[p[-1]])
                return list(reversed(p)) + [start]
            if w in comp and w not in prev:
                prev[w] = v
                todo.append(w)
    return sorted(comp)


def check(root):
    files = scan(root)
    edges, errors = resolve(root, files)
    mods, dirs = {}, {}
    for f, incs in edges.items():
        for g in incs:
            if module(g) != module(f):
                mods.setdefault(module(f), set()).add(module(g))
            if os.path.dirname(g) != os.path.dirname(f):
                dirs.setdefault(os.path.dirname(f), set()).add(os.path.dirname(g))
    for kind, graph in (("module", mods), ("folder", dirs)):
        for comp in cycles(graph):
            errors.append(f"{kind} circle: {' -> '.join(path_in(graph, comp))}")
    nedges = sum(len(v) for v in mods.values())
    return errors, len(files), len(mods), nedges, sum(len(v) for v in dirs.values())


def self_test():
    cases = {
        "no circle": ({"dataplane/a/x.h": "", "dataplane/a/x.c": '#include "x.h"\n#include "y.h"\n',
                       "dataplane/b/y.h": "", "dataplane/b/y.c": '#include "y.h"\n'}, 0),
        "module circle": ({"dataplane/a/x.h": "", "dataplane/a/x.c": '#include "y.h"\n',
                           "dataplane/a/y.h": "", "dataplane/a/y.c": '#include "x.h"\n'}, 1),
        "folder circle": ({"dataplane/a/x.c": '#include "y.h"\n', "dataplane/a/z.h": "",
                           "dataplane/b/y.h": "", "dataplane/b/w.c": '#include "z.h"\n'}, 1),
        "three-module circle via headers": ({"common/p.h": '#include "q.h"\n', "common/q.h": '#include "r.h"\n',
                                             "common/r.h": '#include "p.h"\n'}, 1),
        "ambiguous header": ({"common/d.h": "", "kni/d.h": "", "bench/u.c": '#include "d.h"\n'}, 1),
        "private header from a sibling room": ({"dataplane/service/svc_state.h": "",
                                                "dataplane/api/srv.c": '#include "svc_state.h"\n'}, 1),
        "private header from its owner and the set-up above": ({"dataplane/service/svc_state.h": "",
                                                                "dataplane/service/svc.c": '#include "svc_state.h"\n',
                                                                "dataplane/dp.c": '#include "svc_state.h"\n'}, 0),
    }
    bad = 0
    for name, (tree, want) in cases.items():
        with tempfile.TemporaryDirectory() as d:
            for p, text in tree.items():
                os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
                with open(os.path.join(d, p), "w") as fh:
                    fh.write(text)
            errors = check(d)[0]
        ok = (len(errors) > 0) == (want > 0)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(errors)} finding(s) {errors}")
        bad += not ok
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    errors, nfiles, nmods, nedges, ndirs = check(sys.argv[1])
    for e in errors:
        print(e)
    print(f"include graph: {nfiles} files, {nmods} importing modules, {nedges} module edges, "
          f"{ndirs} folder edges, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
