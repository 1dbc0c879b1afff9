"""Lays out bench/generate.py's stories as Hugo content: content/<section>/<slug>.md, with the
same front matter (Hugo reads title, date, slug, tags, authors and summary from it)."""
import os
import re
import sys


def main():
    source, target = sys.argv[1], sys.argv[2]
    for folder, _, names in os.walk(source):
        for name in names:
            if not name.endswith(".md"):
                continue
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            section = re.search(r"^section: (.+)$", text, re.M).group(1).strip()
            slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
            os.makedirs(os.path.join(target, slug), exist_ok=True)
            with open(os.path.join(target, slug, name), "w", encoding="utf-8") as handle:
                handle.write(text)


if __name__ == "__main__":
    main()
