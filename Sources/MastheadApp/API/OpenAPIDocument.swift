import Foundation

/// The OpenAPI 3.0 document served at `/api/openapi.json`, describing the Content API (and,
/// as they arrive, the Admin API), so clients, generators and fuzzers can use it.
enum OpenAPIDocument {
    static func json(baseURL: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: document(baseURL: baseURL), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static func parameter(_ name: String, _ description: String, schema: [String: Any], required: Bool = false, location: String = "query") -> [String: Any] {
        ["name": name, "in": location, "required": required, "description": description, "schema": schema]
    }

    private static var key: [String: Any] { parameter("key", "A Content API key (26 hexadecimal characters), made with `masthead content-key add`.", schema: ["type": "string"], required: true) }
    private static var listParameters: [[String: Any]] { [
        key,
        parameter("include", "Comma-separated relations to embed: `tags`, `authors` (posts) or `count.posts` (tags, authors).", schema: ["type": "string"]),
        parameter("fields", "Comma-separated fields to return; others are left out.", schema: ["type": "string"]),
        parameter("limit", "Items per page, 1–100 (more counts as 100), or `all` (100).", schema: ["type": "string", "pattern": "^(|all|[1-9][0-9]{0,5})$", "default": "15"]),
        parameter("page", "Page number, from 1.", schema: ["type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1]),
    ] }
    private static var postListParameters: [[String: Any]] { listParameters + [
        parameter("filter", "Ghost filter expression, e.g. `tag:china+author:amara-okafor` or `published_at:>'2026-11-01'`.", schema: ["type": "string"]),
        parameter("order", "`published_at desc` (default) or `published_at asc`.", schema: ["type": "string", "enum": ["published_at desc", "published_at asc"]]),
    ] }

    private static func envelope(_ name: String, item: String, paginated: Bool) -> [String: Any] {
        var properties: [String: Any] = [name: ["type": "array", "items": ["$ref": "#/components/schemas/\(item)"]]]
        if paginated { properties["meta"] = ["$ref": "#/components/schemas/Meta"] }
        return ["type": "object", "required": paginated ? [name, "meta"] : [name], "properties": properties]
    }

    private static func operation(_ summary: String, _ name: String, item: String, paginated: Bool, parameters: [[String: Any]]) -> [String: Any] {
        [
            "get": [
                "summary": summary,
                "operationId": summary.replacingOccurrences(of: " ", with: ""),
                "tags": ["Content API"],
                "parameters": parameters,
                "responses": [
                    "200": ["description": "The \(name)", "content": ["application/json": ["schema": envelope(name, item: item, paginated: paginated)]]],
                    "400": ["description": "A parameter is not valid", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Errors"]]]],
                    "401": ["description": "The key is missing or unknown", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Errors"]]]],
                    "404": ["description": "Nothing has that slug or id", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Errors"]]]],
                ],
            ] as [String: Any],
        ]
    }

    private static func document(baseURL: String) -> [String: Any] {
        let slug = parameter("slug", "The item's slug.", schema: ["type": "string"], required: true, location: "path")
        let id = parameter("id", "The post's id.", schema: ["type": "string"], required: true, location: "path")
        var paths: [String: Any] = [
            "/api/content/posts/": operation("Browse posts", "posts", item: "Post", paginated: true, parameters: postListParameters),
            "/api/content/posts/{id}/": operation("Read post by id", "posts", item: "Post", paginated: false, parameters: [id] + listParameters),
            "/api/content/posts/slug/{slug}/": operation("Read post by slug", "posts", item: "Post", paginated: false, parameters: [slug] + listParameters),
        ]
        paths["/api/content/search/"] = operation("Search posts", "posts", item: "Post", paginated: true, parameters: listParameters + [
            parameter("q", "The words to find, in titles, deks and bodies.", schema: ["type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"], required: true),
            parameter("section", "Only this section (slug).", schema: ["type": "string"]),
            parameter("tag", "Only this tag (slug).", schema: ["type": "string"]),
            parameter("author", "Only this author (slug).", schema: ["type": "string"]),
            parameter("from", "Published on or after this day (YYYY-MM-DD).", schema: ["type": "string"]),
            parameter("until", "Published on or before this day (YYYY-MM-DD).", schema: ["type": "string"]),
        ])
        for (name, item) in [("tags", "Tag"), ("authors", "Author"), ("pages", "Page"), ("sections", "Section")] {
            paths["/api/content/\(name)/"] = operation("Browse \(name)", name, item: item, paginated: true, parameters: listParameters)
            paths["/api/content/\(name)/slug/{slug}/"] = operation("Read \(name) by slug", name, item: item, paginated: false, parameters: [slug] + listParameters)
        }
        let nullableString: [String: Any] = ["type": "string", "nullable": true]
        let object: [String: Any] = ["type": "object", "additionalProperties": true]
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "Masthead API",
                "version": "1.0.0",
                "description": "Read-only Content API in the shape of Ghost's Content API. Errors come as {\"errors\": [{\"message\", \"type\", \"context\"}]}.",
            ],
            "servers": [["url": baseURL]],
            "paths": paths,
            "components": [
                "schemas": [
                    "Post": object.merging(["properties": [
                        "id": ["type": "string"], "uuid": ["type": "string"], "title": ["type": "string"], "slug": ["type": "string"],
                        "html": ["type": "string"], "feature_image": nullableString, "custom_excerpt": nullableString, "excerpt": ["type": "string"],
                        "published_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
                        "reading_time": ["type": "integer"], "url": ["type": "string"], "featured": ["type": "boolean"],
                        "tags": ["type": "array", "items": ["$ref": "#/components/schemas/Tag"]],
                        "authors": ["type": "array", "items": ["$ref": "#/components/schemas/Author"]],
                    ]]) { $1 },
                    "Tag": object.merging(["properties": [
                        "id": ["type": "string"], "name": ["type": "string"], "slug": ["type": "string"], "url": ["type": "string"],
                        "description": nullableString,
                    ]]) { $1 },
                    "Author": object.merging(["properties": [
                        "id": ["type": "string"], "name": ["type": "string"], "slug": ["type": "string"], "url": ["type": "string"], "bio": nullableString,
                    ]]) { $1 },
                    "Page": object.merging(["properties": [
                        "id": ["type": "string"], "title": ["type": "string"], "slug": ["type": "string"], "html": ["type": "string"], "url": ["type": "string"],
                    ]]) { $1 },
                    "Section": object.merging(["properties": [
                        "id": ["type": "string"], "name": ["type": "string"], "slug": ["type": "string"], "url": ["type": "string"],
                    ]]) { $1 },
                    "Meta": ["type": "object", "required": ["pagination"], "properties": [
                        "pagination": ["type": "object", "required": ["page", "limit", "pages", "total"], "properties": [
                            "page": ["type": "integer"], "limit": ["type": "integer"], "pages": ["type": "integer"], "total": ["type": "integer"],
                            "next": ["type": "integer", "nullable": true], "prev": ["type": "integer", "nullable": true],
                        ]],
                    ]],
                    "Errors": ["type": "object", "required": ["errors"], "properties": [
                        "errors": ["type": "array", "items": ["type": "object", "required": ["message", "type"], "properties": [
                            "message": ["type": "string"], "type": ["type": "string"], "context": nullableString,
                        ]]],
                    ]],
                ],
            ],
        ]
    }
}
