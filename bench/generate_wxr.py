#!/usr/bin/env python3
"""Writes a WordPress export (WXR 1.2) of N posts, shaped like a real newsroom's: half from the
classic editor (paragraphs as blank lines, [caption]-free), half from the block editor (block
comments, headings, quotes, lists), eight categories, a few thousand tags used unevenly, 240
authors, comments on some posts, ten years of dates. No pictures: it measures the text path.

    bench/generate_wxr.py N FILE [--seed S]

Written as it goes, so exports of any size (2 GB and more) take no memory here."""
import argparse
import datetime
import itertools
import random
from xml.sax.saxutils import escape

CATEGORIES = ["World", "Politics", "Business", "Technology", "Science", "Culture", "Sport", "Opinion"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "go", "ha", "ji", "ku", "la", "mo", "na",
             "pe", "ri", "so", "tu", "va", "ze", "bor", "dan", "fel", "gar", "hin", "kor", "lun", "mar", "nor", "pol"]
COMMON = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
          "they you were her she there been one all we their has would when if so what up out about who can").split()


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("file")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocabulary = COMMON + ["".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 4)))) for _ in range(20_000)]
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocabulary))))

    def words(n):
        return rng.choices(vocabulary, cum_weights=cumulative, k=n)

    def sentence():
        return " ".join(words(rng.randint(8, 22))).capitalize() + "."

    tags = sorted({" ".join(w.capitalize() for w in words(rng.choice((1, 2)))) for _ in range(3000)})
    authors = [(f"author{index}", " ".join(w.capitalize() for w in words(2))) for index in range(240)]
    start = datetime.datetime(2016, 1, 1)
    with open(args.file, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
                  'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
                  'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
                  '<title>Bench Gazette</title><link>https://bench.example</link><wp:wxr_version>1.2</wp:wxr_version>\n'
                  '<wp:base_site_url>https://bench.example</wp:base_site_url><wp:base_blog_url>https://bench.example</wp:base_blog_url>\n')
        for login, name in authors:
            out.write(f"<wp:author><wp:author_id>{authors.index((login, name)) + 1}</wp:author_id><wp:author_login>{cdata(login)}</wp:author_login>"
                      f"<wp:author_display_name>{cdata(name)}</wp:author_display_name></wp:author>\n")
        for index, category in enumerate(CATEGORIES):
            out.write(f"<wp:category><wp:term_id>{index + 1}</wp:term_id><wp:category_nicename>{category.lower()}</wp:category_nicename>"
                      f"<wp:category_parent></wp:category_parent><wp:cat_name>{cdata(category)}</wp:cat_name></wp:category>\n")
        for number in range(args.count):
            post_id = 1000 + number
            title_words = words(rng.randint(4, 9))
            title = " ".join(title_words).capitalize()
            slug = "-".join(title_words)[:70] + f"-{post_id}"
            date = start + datetime.timedelta(seconds=rng.randrange(10 * 365 * 86_400))
            stamp = date.strftime("%Y-%m-%d %H:%M:%S")
            paragraphs = [" ".join(sentence() for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(4, 12))]
            if number % 2:
                body = "\n\n".join(paragraphs)
            else:
                blocks = [f"<!-- wp:paragraph -->\n<p>{escape(p)}</p>\n<!-- /wp:paragraph -->" for p in paragraphs]
                blocks.insert(2, f"<!-- wp:heading -->\n<h2>{escape(sentence())}</h2>\n<!-- /wp:heading -->")
                blocks.insert(4, f'<!-- wp:quote -->\n<blockquote class="wp-block-quote"><p>{escape(sentence())}</p></blockquote>\n<!-- /wp:quote -->')
                body = "\n\n".join(blocks)
            login, _ = rng.choice(authors)
            story_tags = set(rng.choices(tags, k=rng.choice((0, 1, 2, 3, 5))))
            terms = f'<category domain="category" nicename="{rng.choice(CATEGORIES).lower()}">{cdata(rng.choice(CATEGORIES))}</category>'
            terms += "".join(f'<category domain="post_tag" nicename="{escape(t.lower().replace(" ", "-"))}">{cdata(t)}</category>' for t in story_tags)
            comments = "".join(
                f"<wp:comment><wp:comment_id>{post_id * 10 + c}</wp:comment_id><wp:comment_content>{cdata(sentence())}</wp:comment_content></wp:comment>"
                for c in range(rng.choice((0, 0, 0, 1, 3))))
            out.write(
                f"<item><title>{escape(title)}</title><link>https://bench.example/{date:%Y/%m/%d}/{slug}/</link>"
                f"<pubDate>{date:%a, %d %b %Y %H:%M:%S} +0000</pubDate><dc:creator>{cdata(login)}</dc:creator>"
                f'<guid isPermaLink="false">https://bench.example/?p={post_id}</guid><description></description>'
                f"<content:encoded>{cdata(body)}</content:encoded><excerpt:encoded>{cdata(sentence())}</excerpt:encoded>"
                f"<wp:post_id>{post_id}</wp:post_id><wp:post_date>{cdata(stamp)}</wp:post_date><wp:post_date_gmt>{cdata(stamp)}</wp:post_date_gmt>"
                f"<wp:post_name>{cdata(slug)}</wp:post_name><wp:status>{cdata('publish')}</wp:status><wp:post_parent>0</wp:post_parent>"
                f"<wp:post_type>{cdata('post')}</wp:post_type><wp:post_password>{cdata('')}</wp:post_password>{terms}{comments}</item>\n")
        out.write("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
