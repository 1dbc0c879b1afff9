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
        for (path, item) in adminPaths() { paths[path] = item }
        let nullableString: [String: Any] = ["type": "string", "nullable": true]
        let object: [String: Any] = ["type": "object", "additionalProperties": true]
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "Masthead API",
                "version": "1.0.0",
                "description": "The read-only Content API, in the shape of Ghost's Content API (a `key` query parameter), and the Admin API "
                    + "(`Authorization: Bearer <key>` with a key made in the admin; it acts with its owner's role). "
                    + "Errors come as {\"errors\": [{\"message\", \"type\", \"context\" or \"field\"}]}.",
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
                    "AdminErrors": ["type": "object", "required": ["errors"], "properties": [
                        "errors": ["type": "array", "items": ["type": "object", "required": ["message", "type"], "properties": [
                            "message": ["type": "string"], "type": ["type": "string"],
                            "field": ["type": "string", "nullable": true, "description": "The request field the error is about."],
                            "context": ["type": "object", "additionalProperties": true],
                        ]]],
                    ]],
                    "AdminArticle": object.merging(["required": ["id", "slug", "title", "status", "version"], "properties": [
                        "id": ["type": "integer"], "slug": ["type": "string"], "title": ["type": "string"], "summary": ["type": "string"],
                        "body": ["type": "string", "description": "Markdown."],
                        "status": ["type": "string", "enum": ["draft", "review", "scheduled", "published"]],
                        "version": ["type": "integer", "description": "Send it back with an update; a newer stored version refuses the update (409)."],
                        "url": ["type": "string"], "section": object, "tags": ["type": "array", "items": ["type": "string"]],
                        "authors": ["type": "array", "items": object], "image": ["type": "object", "nullable": true, "additionalProperties": true],
                        "disclaimer": ["type": "boolean"], "seo_title": ["type": "string"], "seo_description": ["type": "string"],
                        "published_at": ["type": "string", "format": "date-time"], "modified_at": ["type": "string", "format": "date-time"],
                        "corrections": ["type": "array", "items": object],
                    ]]) { $1 },
                    "AdminArticleInput": ["type": "object", "properties": [
                        "title": ["type": "string", "description": "Required when creating."],
                        "summary": ["type": "string"], "body": ["type": "string", "description": "Markdown."], "slug": ["type": "string"],
                        "section": ["description": "The section's slug or id (required when creating).", "oneOf": [["type": "string"], ["type": "integer"]]],
                        "tags": ["type": "array", "items": ["type": "string"]], "authors": ["type": "array", "items": ["type": "integer"]],
                        "image": ["type": "object", "nullable": true, "properties": [
                            "media_id": ["type": "integer"], "alt": ["type": "string"], "caption": ["type": "string"], "credit": ["type": "string"],
                        ]],
                        "disclaimer": ["type": "boolean"], "seo_title": ["type": "string"], "seo_description": ["type": "string"],
                        "version": ["type": "integer", "description": "Required when updating: the version the change is based on."],
                    ]],
                    "Media": object.merging(["properties": [
                        "id": ["type": "integer"], "path": ["type": "string"], "url": ["type": "string"], "name": ["type": "string"],
                        "format": ["type": "string"], "width": ["type": "integer"], "height": ["type": "integer"], "bytes": ["type": "integer"],
                        "alt": ["type": "string"], "caption": ["type": "string"], "credit": ["type": "string"],
                    ]]) { $1 },
                ],
                "securitySchemes": [
                    "adminKey": ["type": "http", "scheme": "bearer", "description": "An Admin API key made on the admin's account page."],
                ],
            ],
        ]
    }

    // MARK: Admin API

    private static func adminResponses(_ success: String, _ schema: [String: Any]?, status: String = "200") -> [String: Any] {
        func error(_ description: String) -> [String: Any] {
            ["description": description, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/AdminErrors"]]]]
        }
        var responses: [String: Any] = [
            "400": error("The body or a parameter cannot be read"),
            "401": error("The key is missing, unknown or revoked"),
            "403": error("The key's owner may not do this with their role"),
            "404": error("Nothing has that id"),
            "409": error("A newer version was saved (with who and when), or a name is in use"),
            "413": error("The body is too large"),
            "415": error("The body has the wrong type"),
            "422": error("A field is not valid; `field` names it"),
        ]
        if let schema {
            responses[status] = ["description": success, "content": ["application/json": ["schema": schema]]]
        } else {
            responses[status] = ["description": success]
        }
        return responses
    }

    private static func adminOperation(_ summary: String, _ responses: [String: Any], parameters: [[String: Any]] = [], body: [String: Any]? = nil) -> [String: Any] {
        var operation: [String: Any] = [
            "summary": summary, "operationId": "admin" + summary.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "'", with: ""),
            "tags": ["Admin API"], "security": [["adminKey": [String]()]], "parameters": parameters, "responses": responses,
        ]
        if let body { operation["requestBody"] = body }
        return operation
    }

    private static func adminPaths() -> [String: Any] {
        let id = parameter("id", "The article's id.", schema: ["type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991], required: true, location: "path")
        func list(_ name: String, _ item: [String: Any]) -> [String: Any] {
            ["type": "object", "required": [name], "properties": [name: ["type": "array", "items": item]]]
        }
        let article = list("articles", ["$ref": "#/components/schemas/AdminArticle"])
        let json: (String) -> [String: Any] = { ref in
            ["required": true, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/\(ref)"]]]]
        }
        let named: [String: Any] = ["required": true, "content": ["application/json": ["schema": [
            "type": "object", "required": ["name"], "properties": ["name": ["type": "string"]],
        ]]]]
        var paths: [String: Any] = [
            "/api/admin/articles/": [
                "get": adminOperation("List articles", adminResponses("Articles in any state, most recently changed first", article), parameters: [
                    parameter("status", "Only articles in this state.", schema: ["type": "string", "enum": ["draft", "review", "scheduled", "published"]]),
                    parameter("limit", "Items per page, 1–100.", schema: ["type": "integer", "minimum": 1, "maximum": 100]),
                    parameter("page", "Page number, from 1.", schema: ["type": "integer", "minimum": 1, "maximum": 100_000]),
                ]),
                "post": adminOperation("Create an article", adminResponses("The new draft", article, status: "201"), body: json("AdminArticleInput")),
            ],
            "/api/admin/articles/{id}/": [
                "get": adminOperation("Read an article", adminResponses("The article", article), parameters: [id]),
                "put": adminOperation("Update an article", adminResponses("The updated article", article), parameters: [id], body: json("AdminArticleInput")),
                "delete": adminOperation("Delete an article", adminResponses("Deleted", nil, status: "204"), parameters: [id]),
            ],
            "/api/admin/articles/{id}/schedule": [
                "post": adminOperation("Schedule an article", adminResponses("The scheduled article", article), parameters: [id], body: [
                    "required": true, "content": ["application/json": ["schema": [
                        "type": "object", "required": ["publish_at"], "properties": ["publish_at": ["type": "string", "format": "date-time"]],
                    ]]],
                ]),
            ],
            "/api/admin/articles/{id}/corrections": [
                "post": adminOperation("Append a correction", adminResponses("The correction", list("corrections", ["type": "object"]), status: "201"), parameters: [id], body: [
                    "required": true, "content": ["application/json": ["schema": [
                        "type": "object", "required": ["text"], "properties": [
                            "kind": ["type": "string", "enum": ["correction", "update"]], "text": ["type": "string"],
                        ],
                    ]]],
                ]),
            ],
            "/api/admin/media/": [
                "get": adminOperation("List media", adminResponses("Images in the library, newest first", list("media", ["$ref": "#/components/schemas/Media"])), parameters: [
                    parameter("search", "Words in the name, alt text, caption or credit.", schema: ["type": "string"]),
                ]),
                "post": adminOperation(
                    "Upload an image", adminResponses("The stored image", list("media", ["$ref": "#/components/schemas/Media"]), status: "201"),
                    parameters: [
                        parameter("filename", "The file's name (for a raw body).", schema: ["type": "string"]),
                        parameter("alt", "Alt text.", schema: ["type": "string"]),
                        parameter("caption", "Caption.", schema: ["type": "string"]),
                        parameter("credit", "Credit.", schema: ["type": "string"]),
                    ],
                    body: ["required": true, "content": [
                        "image/*": ["schema": ["type": "string", "format": "binary"]],
                        "multipart/form-data": ["schema": ["type": "object", "required": ["file"], "properties": [
                            "file": ["type": "string", "format": "binary"], "alt": ["type": "string"], "caption": ["type": "string"], "credit": ["type": "string"],
                        ]]],
                    ]]),
            ],
        ]
        for (verb, summary) in [("publish", "Publish an article now"), ("unpublish", "Unpublish an article"), ("submit", "Send an article for review")] {
            paths["/api/admin/articles/{id}/\(verb)"] = ["post": adminOperation(summary, adminResponses("The article in its new state", article), parameters: [id])]
        }
        for (name, summary) in [("tags", "tags"), ("sections", "sections")] {
            paths["/api/admin/\(name)/"] = [
                "get": adminOperation("List \(summary)", adminResponses("Every one", list(name, ["type": "object"]))),
                "post": adminOperation("Add to \(summary)", adminResponses("The new one", list(name, ["type": "object"]), status: "201"), body: named),
            ]
        }
        return paths
    }
}
