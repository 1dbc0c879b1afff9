import SQLKit

/// A numbered change to the schema. Migrations run in order, each in its own transaction,
/// and each exactly once: `schema_migration` records which have run.
struct Migration: Sendable {
    var version: Int
    var name: String
    /// It drops and recreates a table others refer to (see ``DatabaseEngine/writeRebuildingTables(_:)``).
    var rebuildsTables = false
    var apply: @Sendable (any SQLDatabase) async throws -> Void
}

enum Migrations {
    /// Every migration, oldest first. Never edit a released one: add a new one.
    static let all: [Migration] = [
        Migration(version: 1, name: "content", apply: createContentTables),
        Migration(version: 2, name: "image placeholders", apply: { db in
            try await db.alter(table: "article").column("image_placeholder", type: .text).run()
        }),
        Migration(version: 3, name: "full-text search", apply: { db in
            try await db.searchIndex.createSchema(db)
        }),
        Migration(version: 4, name: "content API keys", apply: { db in
            try await db.create(table: "content_key")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("name", type: .text, .notNull)
                .column("key_hash", type: .text, .notNull, .unique)
                .column("created_at", type: .bigint, .notNull)
                .run()
        }),
        Migration(version: 5, name: "newsroom", apply: createNewsroomTables),
        Migration(version: 6, name: "webhooks", apply: { db in
            try await db.create(table: "webhook")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("url", type: .text, .notNull)
                .column("secret", type: .text, .notNull)
                .column("events", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            // The outbox: each event for each hook, written with the change and sent (and retried) by the server.
            try await db.create(table: "webhook_delivery")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("webhook_id", type: .bigint, .notNull, .references("webhook", "id", onDelete: .cascade))
                .column("event", type: .text, .notNull)
                .column("payload", type: .text, .notNull)
                .column("state", type: .text, .notNull)
                .column("attempts", type: .int, .notNull, .default(0))
                .column("next_attempt_at", type: .bigint, .notNull)
                .column("last_status", type: .int)
                .column("last_error", type: .text)
                .column("created_at", type: .bigint, .notNull)
                .column("finished_at", type: .bigint)
                .run()
            try await db.create(index: "webhook_delivery_due").on("webhook_delivery").column("state").column("next_attempt_at").run()
        }),
        Migration(version: 7, name: "consent records and audience counts", apply: { db in
            // Proof of consent: no address, no device details; the id is random and lives in the reader's cookie.
            try await db.create(table: "consent_record")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("consent_id", type: .text, .notNull)
                .column("policy_version", type: .int, .notNull)
                .column("action", type: .text, .notNull)
                .column("granted", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "consent_record_id").on("consent_record").column("consent_id").run()
            // Counts only: per day and page, per day and referring domain, per day for the site.
            try await db.create(table: "audience_page")
                .column("day", type: .text, .notNull)
                .column("path", type: .text, .notNull)
                .column("views", type: .bigint, .notNull)
                .column("visitors", type: .bigint, .notNull)
                .primaryKey("day", "path")
                .run()
            try await db.create(table: "audience_referrer")
                .column("day", type: .text, .notNull)
                .column("domain", type: .text, .notNull)
                .column("views", type: .bigint, .notNull)
                .primaryKey("day", "domain")
                .run()
            try await db.create(table: "audience_site")
                .column("day", type: .text, .primaryKey(autoIncrement: false))
                .column("views", type: .bigint, .notNull)
                .column("visitors", type: .bigint, .notNull)
                .run()
        }),
        Migration(version: 8, name: "tip line", apply: { db in
            // The newsroom's public key, its private key only when sealed under a passphrase, and the
            // salt of receipt hashes. Tips themselves are ciphertext; dates are kept to the day.
            try await db.create(table: "tip_key")
                .column("id", type: .int, .primaryKey(autoIncrement: false))
                .column("public_key", type: .text, .notNull)
                .column("protected_key", type: .text)
                .column("receipt_salt", type: .text, .notNull)
                .column("created_day", type: .text, .notNull)
                .run()
            try await db.create(table: "tip_thread")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("lookup_hash", type: .text, .notNull, .unique)
                .column("reply_key", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("assignee_id", type: .bigint, .references("user_account", "id", onDelete: .setNull))
                .column("keep", type: .int, .notNull, .default(0))
                .column("received_day", type: .text, .notNull)
                .column("last_day", type: .text, .notNull)
                .run()
            try await db.create(table: "tip_message")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("thread_id", type: .bigint, .notNull, .references("tip_thread", "id", onDelete: .cascade))
                .column("sender", type: .text, .notNull)
                .column("newsroom_box", type: .text, .notNull)
                .column("source_box", type: .text)
                .column("day", type: .text, .notNull)
                .run()
            try await db.create(index: "tip_message_thread").on("tip_message").column("thread_id").run()
        }),
        Migration(version: 9, name: "old article addresses", apply: { db in
            // Slugs a published article had before: their addresses redirect to the current one.
            try await db.create(table: "article_old_slug")
                .column("slug", type: .text, .primaryKey(autoIncrement: false))
                .column("article_id", type: .bigint, .notNull, .references("article", "id", onDelete: .cascade))
                .run()
        }),
        Migration(version: 10, name: "staged media", apply: { db in
            // Image files an import wrote under a temporary name, recorded in the import's own
            // transaction: after a crash, a file listed here is moved into place, any other is removed.
            try await db.create(table: "staged_media")
                .column("temporary", type: .text, .primaryKey(autoIncrement: false))
                .column("final", type: .text, .notNull)
                .run()
            // Events written in the transaction that caused them (a scheduled story published), so a
            // crash between the change and its announcement cannot lose or repeat the announcement.
            try await db.create(table: "article_event")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("article_id", type: .bigint, .notNull)
                .column("event", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
        }),
        Migration(version: 11, name: "listings at scale", apply: createListingIndexes),
        Migration(version: 12, name: "imports from other systems", apply: { db in
            // What each imported item became, so importing the same export again updates what
            // changed and duplicates nothing: `origin` names the system and site (`wordpress
            // https://example.com`, `ghost`, `markdown`), `source_id` the item there.
            try await db.create(table: "import_origin")
                .column("origin", type: .text, .notNull)
                .column("source_id", type: .text, .notNull)
                .column("kind", type: .text, .notNull)
                .column("local_id", type: .bigint, .notNull)
                .column("guid", type: .text)
                .column("fingerprint", type: .text, .notNull)
                // The article version the import wrote: a newer one means the newsroom edited it since.
                .column("version", type: .int, .notNull, .default(0))
                // The status it wrote: another one means the newsroom took it down or published it.
                .column("status", type: .text)
                .primaryKey("origin", "source_id", "kind")
                .run()
            try await db.create(index: "import_origin_guid").on("import_origin").column("guid").run()
            // A story brought from a site that keeps the original names it as its canonical address.
            try await db.raw("ALTER TABLE article ADD COLUMN canonical_url TEXT NOT NULL DEFAULT ''").run()
            // Addresses the site had before it moved to Masthead, answered with 301 to where
            // their content is now: an article (wherever it lives at the time) or a fixed address.
            try await db.create(table: "legacy_address")
                .column("path", type: .text, .primaryKey(autoIncrement: false))
                .column("article_id", type: .bigint, .references("article", "id", onDelete: .cascade))
                .column("target", type: .text)
                .run()
        }),
        Migration(version: 13, name: "state shared by instances", apply: createSharedStateTables),
        // PostgreSQL keeps long values out of the row already (TOAST): only SQLite's layout changes.
        Migration(version: 14, name: "article bodies last", rebuildsTables: true, apply: { db in
            if db.dialect.name != PostgresSearch.dialectName { try await SQLiteEngine.moveArticleBodiesLast(db) }
        }),
    ]

    /// Every list readers see (home, sections, tags, authors, their page N, feeds) is read from an
    /// index in its own order, newest first, without touching articles it does not show:
    /// partial indexes over published articles, and `listed_at` (the publication time of a
    /// published article, NULL otherwise) on the tag and author links, kept by ``Store/stampListings``.
    private static func createListingIndexes(_ db: any SQLDatabase) async throws {
        for link in ["article_tag", "article_author"] {
            try await db.raw("ALTER TABLE \(unsafeRaw: link) ADD COLUMN listed_at BIGINT").run()
            try await db.raw("""
                UPDATE \(unsafeRaw: link) SET listed_at = (
                  SELECT a.published_at FROM article a WHERE a.id = \(unsafeRaw: link).article_id AND a.status = 'published')
                """).run()
        }
        try await db.raw("""
            CREATE INDEX article_tag_listing ON article_tag (tag_id, listed_at DESC, article_id DESC) WHERE listed_at IS NOT NULL
            """).run()
        try await db.raw("""
            CREATE INDEX article_author_listing ON article_author (author_id, listed_at DESC, article_id DESC) WHERE listed_at IS NOT NULL
            """).run()
        try await db.raw("CREATE INDEX article_listing ON article (published_at DESC, id DESC, modified_at) WHERE status = 'published'").run()
        // Superseded for published stories by article_listing, which the planner would otherwise
        // pass over for it (and then read every article row for its modified_at).
        try await db.raw("DROP INDEX article_published").run()
        // The newsroom's lists: everything, or one state, most recently changed first. The
        // second leaves published stories out: for them the planner would take it over the
        // listing index and sort every published story.
        try await db.raw("CREATE INDEX article_changed ON article (modified_at DESC, id DESC)").run()
        try await db.raw("""
            CREATE INDEX article_status_changed ON article (status, modified_at DESC, id DESC) WHERE status <> 'published'
            """).run()
        try await db.searchIndex.createVocabulary(db)
        // What each content change made stale, for the page caches of every instance.
        try await db.create(table: "content_change")
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("pages", type: .text, .notNull)
            .run()
        try await db.raw("""
            CREATE INDEX article_section_listing ON article (section_id, published_at DESC, id DESC) WHERE status = 'published'
            """).run()
    }

    /// Accounts, sessions, sign-in throttling, API keys, revisions, media and settings; and the
    /// article columns the editor needs (who created it, which version, SEO words, preview link).
    private static func createNewsroomTables(_ db: any SQLDatabase) async throws {
        try await db.create(table: "user_account")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("email", type: .text, .notNull, .unique)
            .column("name", type: .text, .notNull)
            .column("role", type: .text, .notNull)
            .column("password_hash", type: .text)
            .column("author_id", type: .bigint, .references("author", "id", onDelete: .setNull))
            .column("disabled", type: .int, .notNull, .default(0))
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(table: "user_session")
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .bigint, .notNull, .references("user_account", "id", onDelete: .cascade))
            .column("csrf_token", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "user_session_user").on("user_session").column("user_id").run()
        // One-time links: invitations and password resets.
        try await db.create(table: "user_token")
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .bigint, .notNull, .references("user_account", "id", onDelete: .cascade))
            .column("purpose", type: .text, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .run()
        // Failed sign-ins per account name (also for names with no account, so answers reveal nothing).
        try await db.create(table: "login_failure")
            .column("email", type: .text, .primaryKey(autoIncrement: false))
            .column("failures", type: .int, .notNull)
            .column("first_at", type: .bigint, .notNull)
            .column("locked_until", type: .bigint)
            .run()
        try await db.create(table: "api_key")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("user_id", type: .bigint, .notNull, .references("user_account", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("prefix", type: .text, .notNull)
            .column("key_hash", type: .text, .notNull, .unique)
            .column("created_at", type: .bigint, .notNull)
            .column("last_used_at", type: .bigint)
            .run()
        try await db.create(table: "media")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("path", type: .text, .notNull, .unique)
            .column("original_name", type: .text, .notNull)
            .column("format", type: .text, .notNull)
            .column("width", type: .int, .notNull)
            .column("height", type: .int, .notNull)
            .column("bytes", type: .bigint, .notNull)
            .column("alt", type: .text, .notNull, .default(""))
            .column("caption", type: .text, .notNull, .default(""))
            .column("credit", type: .text, .notNull, .default(""))
            .column("placeholder", type: .text)
            .column("uploaded_by", type: .bigint, .references("user_account", "id", onDelete: .setNull))
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(table: "revision")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("article_id", type: .bigint, .notNull, .references("article", "id", onDelete: .cascade))
            .column("version", type: .int, .notNull)
            .column("kind", type: .text, .notNull)
            .column("user_id", type: .bigint, .references("user_account", "id", onDelete: .setNull))
            .column("user_name", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("content", type: .text, .notNull)
            .run()
        try await db.create(index: "revision_article").on("revision").column("article_id").column("id").run()
        try await db.create(table: "site_setting")
            .column("name", type: .text, .primaryKey(autoIncrement: false))
            .column("value", type: .text, .notNull)
            .run()
        for column: (String, SQLDataType, [SQLColumnConstraintAlgorithm]) in [
            ("version", .int, [.notNull, .default(1)]),
            ("created_by", .bigint, [.references("user_account", "id", onDelete: .setNull)]),
            ("modified_by", .bigint, [.references("user_account", "id", onDelete: .setNull)]),
            ("seo_title", .text, [.notNull, .default("")]),
            ("seo_description", .text, [.notNull, .default("")]),
            ("preview_token_hash", .text, []),
            ("preview_expires_at", .bigint, []),
        ] {
            try await db.alter(table: "article").column(column.0, type: column.1, column.2).run()
        }
        try await db.alter(table: "author").column("bio_markdown", type: .text, .notNull, .default("")).run()
    }

    private static func createContentTables(_ db: any SQLDatabase) async throws {
        try await db.create(table: "site_state")
            .column("id", type: .int, .primaryKey(autoIncrement: false))
            .column("content_version", type: .bigint, .notNull)
            .run()
        try await db.insert(into: "site_state").columns("id", "content_version").values(SQLBind(1), SQLBind(Int64(1))).run()

        try await db.create(table: "section")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("slug", type: .text, .notNull, .unique)
            .column("name", type: .text, .notNull)
            .column("position", type: .int, .notNull)
            .run()

        try await db.create(table: "author")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("slug", type: .text, .notNull, .unique)
            .column("name", type: .text, .notNull)
            .column("title", type: .text, .notNull, .default(""))
            .column("bio_html", type: .text, .notNull, .default(""))
            .run()

        try await db.create(table: "tag")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("slug", type: .text, .notNull, .unique)
            .column("name", type: .text, .notNull)
            .run()

        try await db.create(table: "article")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("slug", type: .text, .notNull, .unique)
            .column("title", type: .text, .notNull)
            .column("summary", type: .text, .notNull, .default(""))
            .column("body_markdown", type: .text, .notNull)
            .column("body_html", type: .text, .notNull)
            .column("section_id", type: .bigint, .notNull, .references("section", "id"))
            .column("status", type: .text, .notNull)
            .column("published_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint)
            .column("image_source", type: .text)
            .column("image_alt", type: .text, .notNull, .default(""))
            .column("image_caption", type: .text, .notNull, .default(""))
            .column("image_credit", type: .text, .notNull, .default(""))
            .column("image_width", type: .int)
            .column("image_height", type: .int)
            .column("disclaimer", type: .int, .notNull, .default(0))
            .column("created_at", type: .bigint, .notNull)
            .column("modified_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "article_published").on("article").column("status").column("published_at").run()
        try await db.create(index: "article_section").on("article").column("section_id").column("published_at").run()

        try await db.create(table: "article_author")
            .column("article_id", type: .bigint, .notNull, .references("article", "id", onDelete: .cascade))
            .column("author_id", type: .bigint, .notNull, .references("author", "id"))
            .column("position", type: .int, .notNull)
            .primaryKey("article_id", "author_id")
            .run()
        try await db.create(index: "article_author_author").on("article_author").column("author_id").run()

        try await db.create(table: "article_tag")
            .column("article_id", type: .bigint, .notNull, .references("article", "id", onDelete: .cascade))
            .column("tag_id", type: .bigint, .notNull, .references("tag", "id"))
            .column("position", type: .int, .notNull)
            .primaryKey("article_id", "tag_id")
            .run()
        try await db.create(index: "article_tag_tag").on("article_tag").column("tag_id").run()

        try await db.create(table: "correction")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("article_id", type: .bigint, .notNull, .references("article", "id", onDelete: .cascade))
            .column("kind", type: .text, .notNull)
            .column("body", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "correction_article").on("correction").column("article_id").run()

        try await db.create(table: "page")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("slug", type: .text, .notNull, .unique)
            .column("title", type: .text, .notNull)
            .column("summary", type: .text, .notNull, .default(""))
            .column("body_markdown", type: .text, .notNull)
            .column("body_html", type: .text, .notNull)
            .column("modified_at", type: .bigint, .notNull)
            .run()
    }

    /// What several instances on one database must agree on: forms used once, what clients did
    /// lately (under keyed hashes whose key is not in the database), and the tip keys editors
    /// unlocked, sealed with their session's token (which only their browser holds).
    @Sendable static func createSharedStateTables(_ db: any SQLDatabase) async throws {
        try await db.create(table: "used_token")
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("expires_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "used_token_expires").on("used_token").column("expires_at").run()
        try await db.create(table: "client_event")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("kind", type: .text, .notNull)
            .column("client", type: .text, .notNull)
            .column("at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "client_event_client").on("client_event").column("kind").column("client").column("at").run()
        try await db.create(index: "client_event_at").on("client_event").column("at").run()
        try await db.create(table: "tip_unlock")
            .column("session_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("sealed_key", type: .blob, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .run()
    }
}
