#!/usr/bin/env python3
"""The measuring half of bench/scale.sh (Python standard library only).

    scale_probe.py startup URL --since-ns T [--timeout S]   ms from T (time.time_ns()) to the first 200 from URL
    scale_probe.py sitemaps BASE DIR        writes DIR/articles.txt, sections.txt, tags.txt, authors.txt (paths)
    scale_probe.py words CORPUS DIR         writes DIR/rare.txt, common.txt, two-words.txt (one query a line)
    scale_probe.py time BASE FILE --label L --count C [--query]
                                            requests the paths in FILE (or `q=` queries on /search/ with
                                            --query) round-robin, C in all, over one keep-alive connection;
                                            prints `L p50_ms p95_ms max_ms count empty`

Exit status: 0 fine, 3 a 5xx answer, 4 another answer that is not 200, 5 the server did not answer."""
import argparse
import collections
import http.client
import math
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def fail(code, message):
    print(f"scale_probe: {message}", file=sys.stderr)
    sys.exit(code)


def startup(args):
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(args.url, timeout=2) as response:
                if response.status == 200:
                    print(f"{(time.time_ns() - args.since_ns) / 1e6:.0f}")
                    return
        except OSError:
            pass
        time.sleep(0.005)
    fail(5, f"no 200 from {args.url} within {args.timeout:g} s")


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        fail(3 if error.code >= 500 else 4, f"{url} answered {error.code}")
    except OSError as error:
        fail(5, f"{url}: {error}")


def locations(xml):
    root = ElementTree.fromstring(xml)
    return root.tag.removeprefix(SITEMAP), [loc.text.strip() for loc in root.iter(SITEMAP + "loc")]


def sitemaps(args):
    """Article, section, tag and author addresses, from /sitemap.xml (an index, or one sitemap)."""
    kind, locs = locations(fetch(args.base + "/sitemap.xml"))
    lists = collections.defaultdict(list)
    if kind == "sitemapindex":
        for child in locs:
            name = urllib.parse.urlsplit(child).path.rsplit("/", 1)[-1]
            group = next((g for g in ("articles", "sections", "tags", "authors") if name.startswith(g)), None)
            if group:
                lists[group] += [urllib.parse.urlsplit(u).path for u in locations(fetch(child))[1]]
    else:  # one flat sitemap: tell the kinds apart by their addresses
        for url in locs:
            path = urllib.parse.urlsplit(url).path
            parts = path.strip("/").split("/")
            if parts[0] == "tag" and len(parts) == 2:
                lists["tags"].append(path)
            elif parts[0] == "author" and len(parts) == 2:
                lists["authors"].append(path)
            elif len(parts) == 2:
                lists["articles"].append(path)
            elif len(parts) == 1 and parts[0]:
                lists["sections"].append(path)
    os.makedirs(args.dir, exist_ok=True)
    for group in ("articles", "sections", "tags", "authors"):
        with open(os.path.join(args.dir, group + ".txt"), "w") as handle:
            handle.writelines(p + "\n" for p in lists[group])
    print(" ".join(f"{g}={len(lists[g])}" for g in ("articles", "sections", "tags", "authors")))


def words(args):
    """Search words by how many stories of a sample of the corpus use them (titles, deks, bodies)."""
    files = sorted(os.path.join(folder, name) for folder, _, names in os.walk(args.corpus) for name in names if name.endswith(".md"))
    if not files:
        fail(4, f"no .md files in {args.corpus}")
    step = max(1, len(files) // args.sample)
    frequency = collections.Counter()
    for path in files[::step][: args.sample]:
        with open(path) as handle:
            text = handle.read()
        front, _, body = text.partition("\n---\n")
        indexed = [line.split(":", 1)[1] for line in front.splitlines() if line.startswith(("title:", "summary:"))]
        frequency.update(set(re.findall(r"[a-z]+", (" ".join(indexed) + " " + body).lower())))
    # Whole words of three letters or more: the last word of a query also matches as a prefix,
    # and no reader searches for "a*".
    ranked = sorted((w for w in frequency if len(w) >= 3), key=lambda w: (-frequency[w], w))
    common = ranked[:10]
    middle = ranked[10:60]
    # Used in one story of the sample: rare, yet certain to be found.
    rare = sorted(w for w in ranked if frequency[w] == 1 and len(w) >= 5)
    rare = rare[:: max(1, len(rare) // 50)][:50]
    pairs = [f"{common[i % len(common)]} {word}" for i, word in enumerate(middle)]
    os.makedirs(args.dir, exist_ok=True)
    for name, queries in (("rare", rare), ("common", common), ("two-words", pairs)):
        with open(os.path.join(args.dir, name + ".txt"), "w") as handle:
            handle.writelines(q + "\n" for q in queries)
    print(f"rare={rare[0] if rare else '-'} common={common[0]} two-words='{pairs[0] if pairs else '-'}'")


def percentile(sorted_values, fraction):
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def timing(args):
    with open(args.file) as handle:
        items = [line.rstrip("\n") for line in handle if line.strip()]
    if not items:
        fail(4, f"{args.file}: nothing to request")
    base = urllib.parse.urlsplit(args.base)
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    durations, empty = [], 0
    for i in range(args.count):
        item = items[i % len(items)]
        path = "/search/?q=" + urllib.parse.quote_plus(item) if args.query else item
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"User-Agent": "masthead-bench"})
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            fail(5, f"{path}: {error}")
        durations.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            fail(3 if response.status >= 500 else 4, f"{path} answered {response.status}")
        if args.query and b'class="search-results"' not in body:
            empty += 1
    durations.sort()
    print(f"{args.label} {percentile(durations, 0.5):.2f} {percentile(durations, 0.95):.2f} {durations[-1]:.2f} {len(durations)} {empty}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("startup")
    command.add_argument("url")
    command.add_argument("--since-ns", type=int, required=True)
    command.add_argument("--timeout", type=float, default=120)
    command.set_defaults(run=startup)
    command = commands.add_parser("sitemaps")
    command.add_argument("base")
    command.add_argument("dir")
    command.set_defaults(run=sitemaps)
    command = commands.add_parser("words")
    command.add_argument("corpus")
    command.add_argument("dir")
    command.add_argument("--sample", type=int, default=2000)
    command.set_defaults(run=words)
    command = commands.add_parser("time")
    command.add_argument("base")
    command.add_argument("file")
    command.add_argument("--label", required=True)
    command.add_argument("--count", type=int, default=50)
    command.add_argument("--query", action="store_true")
    command.set_defaults(run=timing)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
