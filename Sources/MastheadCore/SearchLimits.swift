/// What a search counts: matches are counted up to `countLimit`; past it, pages say "more than".
public enum SearchLimits {
    public static let countLimit = 10_000
}
