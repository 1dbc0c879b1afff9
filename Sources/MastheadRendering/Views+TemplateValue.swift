// The reader-facing views as templates see them, written out so that a page's values are made
// without reflection. Field names are the properties' names; `MASTHEAD_CHECK_TEMPLATES=1` (as the
// test suites run) checks each page against the same view read by reflection.

extension FrameView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "siteTitle": .text(siteTitle), "siteTagline": .text(siteTagline), "language": .text(language),
            "documentTitle": .text(documentTitle), "description": .text(description), "canonicalURL": .text(canonicalURL),
            "navigation": navigation.templateValue, "assetsVersion": .text(assetsVersion), "tipPrompt": .text(tipPrompt),
            "showsImageCredit": .flag(showsImageCredit), "year": .text(year), "isHome": .flag(isHome),
            "feeds": feeds.templateValue, "structuredData": structuredData.templateValue, "consent": consent.templateValue,
        ])
    }
}

extension ConsentView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "showNotice": .flag(showNotice), "privacySignal": .flag(privacySignal),
            "granted": .object(granted.mapValues(TemplateValue.flag)), "scripts": scripts.templateValue, "returnPath": .text(returnPath),
        ])
    }
}

extension FeedLinkView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["title": .text(title), "type": .text(type), "url": .text(url)]) }
}

extension NavigationItem: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["name": .text(name), "path": .text(path), "isCurrent": .flag(isCurrent)]) }
}

extension TimeView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["iso": .text(iso), "text": .text(text)]) }
}

extension LinkView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["name": .text(name), "path": .text(path), "separator": .text(separator)]) }
}

extension ImageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "url": .text(url), "absoluteURL": .text(absoluteURL), "srcset": srcset.templateValue, "sizes": sizes.templateValue,
            "placeholderStyle": placeholderStyle.templateValue, "alt": .text(alt), "caption": caption.templateValue,
            "credit": credit.templateValue, "width": width.templateValue, "height": height.templateValue, "hasFigcaption": .flag(hasFigcaption),
        ])
    }
}

extension ArticleCardView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "title": .text(title), "path": .text(path), "summary": summary.templateValue, "section": section.templateValue,
            "published": published.templateValue, "byline": byline.templateValue, "hasByline": .flag(hasByline), "image": image.templateValue,
        ])
    }
}

extension CorrectionView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["label": .text(label), "text": .text(text), "time": time.templateValue]) }
}

extension HashtagView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["hashtag": .text(hashtag), "name": .text(name), "path": .text(path)]) }
}

extension ArticlePageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "frame": frame.templateValue, "title": .text(title), "summary": summary.templateValue, "byline": byline.templateValue,
            "hasByline": .flag(hasByline), "authorNames": authorNames.templateValue, "published": published.templateValue,
            "updated": updated.templateValue, "image": image.templateValue, "bodyHTML": .text(bodyHTML),
            "corrections": corrections.templateValue, "section": section.templateValue, "related": related.templateValue,
            "tags": tags.templateValue, "disclaimer": disclaimer.templateValue, "tipPrompt": .text(tipPrompt),
        ])
    }
}

extension PaginationView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields(["current": .number(current), "total": .number(total), "previousPath": previousPath.templateValue, "nextPath": nextPath.templateValue])
    }
}

extension ListPageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "frame": frame.templateValue, "kind": .text(kind), "heading": .text(heading), "subheading": subheading.templateValue,
            "introHTML": introHTML.templateValue, "articles": articles.templateValue, "pagination": pagination.templateValue, "isEmpty": .flag(isEmpty),
        ])
    }
}

extension SectionBlockView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields(["name": .text(name), "path": .text(path), "anchor": .text(anchor), "articles": articles.templateValue])
    }
}

extension HomePageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields(["frame": frame.templateValue, "lead": lead.templateValue, "latest": latest.templateValue, "sections": sections.templateValue])
    }
}

extension StaticPageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields(["frame": frame.templateValue, "title": .text(title), "summary": summary.templateValue, "bodyHTML": .text(bodyHTML)])
    }
}

extension SearchResultView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["card": card.templateValue, "snippetHTML": .text(snippetHTML)]) }
}

extension SectionOptionView: TemplateRepresentable {
    public var templateValue: TemplateValue { .fields(["slug": .text(slug), "name": .text(name), "isSelected": .flag(isSelected)]) }
}

extension SearchPageView: TemplateRepresentable {
    public var templateValue: TemplateValue {
        .fields([
            "frame": frame.templateValue, "query": .text(query), "sections": sections.templateValue, "from": .text(from), "until": .text(until),
            "hasQuery": .flag(hasQuery), "results": results.templateValue, "summary": summary.templateValue, "pagination": pagination.templateValue,
        ])
    }
}
