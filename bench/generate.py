#!/usr/bin/env python3
"""Writes N Markdown articles with front matter, shaped like a real newsroom's archive:
word frequencies follow Zipf's law (common words are common, most words are rare), tags and
authors are used unevenly, stories spread over ten years in eight sections.

    bench/generate.py N FOLDER [--seed S]

The same N and seed always give the same files."""
import argparse
import datetime
import os
import random

SECTIONS = ["World", "Politics", "Business", "Technology", "Science", "Culture", "Sport", "Opinion"]
COMMON = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you "
    "were her she there been one all we their has would when if so what up out about who can into more than other some "
    "time could them only new these two may first then do any like my now over such our man me even most made after "
    "also did many before must through back years where much your way well down should because each just those people "
    "how too little state good very make world still own see men work long get here between both life being under never "
    "day same another know while last might us great old year off come since against go came right used take three"
).split()
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "go", "ha", "ji", "ku", "la", "mo", "na",
             "pe", "ri", "so", "tu", "va", "ze", "bor", "dan", "fel", "gar", "hin", "kor", "lun", "mar", "nor", "pol",
             "ran", "sel", "tor", "ven", "wil", "zan", "tri", "pra", "ske", "blo", "cra", "dro", "fli", "gro"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    vocabulary = list(COMMON)
    seen = set(vocabulary)
    while len(vocabulary) < 30_000:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            vocabulary.append(word)
    # Zipf: the k-th word has weight 1/k.
    cumulative = []
    total = 0.0
    for rank in range(1, len(vocabulary) + 1):
        total += 1.0 / rank
        cumulative.append(total)

    def words(n):
        return rng.choices(vocabulary, cum_weights=cumulative, k=n)

    tags = sorted({" ".join(w.capitalize() for w in words(rng.choice((1, 1, 2)))) for _ in range(3000)})
    rng.shuffle(tags)
    tag_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(tags))]
    authors = [" ".join(w.capitalize() for w in words(2)) for _ in range(240)]
    author_weights = [1.0 / (rank + 1) ** 0.6 for rank in range(len(authors))]
    start = datetime.datetime(2016, 1, 1, tzinfo=datetime.timezone.utc)
    span = 10 * 365 * 86_400

    os.makedirs(args.folder, exist_ok=True)
    slugs = set()
    for index in range(args.count):
        title_words = words(rng.randint(4, 9))
        title = " ".join(title_words).capitalize()
        slug = "-".join(title_words)[:80].strip("-")
        while slug in slugs or not slug:
            slug = f"{slug}-{rng.randint(2, 9999)}"
        slugs.add(slug)
        date = start + datetime.timedelta(seconds=rng.randrange(span))
        story_tags = list(dict.fromkeys(rng.choices(tags, weights=tag_weights, k=rng.choice((0, 1, 2, 3, 3, 4, 5, 8)))))
        story_authors = list(dict.fromkeys(rng.choices(authors, weights=author_weights, k=rng.choice((1, 1, 1, 2)))))
        paragraphs = []
        for p in range(rng.randint(4, 12)):
            sentences = [" ".join(words(rng.randint(8, 22))).capitalize() + "." for _ in range(rng.randint(2, 5))]
            paragraphs.append(" ".join(sentences))
            if p == 2 and rng.random() < 0.3:
                paragraphs.append("## " + " ".join(words(4)).capitalize())
        summary = " ".join(words(rng.randint(10, 20))).capitalize() + "."
        front = [
            "---",
            f'title: "{title}"',
            f"slug: {slug}",
            f"section: {rng.choice(SECTIONS)}",
            "tags: [" + ", ".join(f'"{t}"' for t in story_tags) + "]",
            "authors: [" + ", ".join(f'"{a}"' for a in story_authors) + "]",
            f"date: {date.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            f'summary: "{summary}"',
            "---",
        ]
        folder = os.path.join(args.folder, f"{index // 1000:04d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{slug}.md"), "w") as handle:
            handle.write("\n".join(front) + "\n" + "\n\n".join(paragraphs) + "\n")


if __name__ == "__main__":
    main()
