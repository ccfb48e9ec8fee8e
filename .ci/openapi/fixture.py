"""Creates the fixture schema and records of the schemathesis run over HTTP.

Usage: fixture.py BASE_URL TOKEN CONFIG_OUT
A base collection with every field type, an auth collection, relations both ways
(single and multiple), and a few records, files included. Writes a schemathesis
config to CONFIG_OUT that points the path parameters of the operations at these
records, so the run reaches past 404s.
"""

import json
import sys
import urllib.request
import uuid

BASE, TOKEN, CONFIG_OUT = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, content_type="application/json"):
    data = body
    if body is not None and content_type == "application/json":
        data = json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", TOKEN)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        sys.exit(f"fixture: {method} {path} -> {e.code} {e.read().decode()}")


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, mime, data) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        ).encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}

users = call("POST", "/api/collections", {
    "name": "fx_users", "type": "auth",
    "fields": [
        {"name": "name", "type": "text", "max": 80},
        {"name": "avatar", "type": "file", "maxSelect": 1, "maxSize": 1048576,
         "mimeTypes": ["image/png", "image/jpeg"], "thumbs": ["32x32"]},
    ],
    "listRule": "", "viewRule": "", "createRule": "", "updateRule": "id = @request.auth.id",
    "deleteRule": None,
})
tags = call("POST", "/api/collections", {
    "name": "fx_tags", "type": "base", **OPEN,
    "fields": [{"name": "label", "type": "text", "required": True, "min": 1, "max": 40}],
})
everything = call("POST", "/api/collections", {
    "name": "fx_all", "type": "base", **OPEN,
    "fields": [
        {"name": "title", "type": "text", "required": True, "min": 3, "max": 100, "searchable": True},
        {"name": "code", "type": "text", "pattern": "^[A-Z]{2}[0-9]{2}$"},
        {"name": "body", "type": "editor", "searchable": True},
        {"name": "count", "type": "number", "min": 0, "max": 1000, "onlyInt": True},
        {"name": "score", "type": "number"},
        {"name": "active", "type": "bool"},
        {"name": "contact", "type": "email"},
        {"name": "site", "type": "url"},
        {"name": "due", "type": "date"},
        {"name": "status", "type": "select", "required": True, "maxSelect": 1,
         "values": ["draft", "published", "archived"]},
        {"name": "labels", "type": "select", "maxSelect": 3, "values": ["red", "green", "blue", "black"]},
        {"name": "meta", "type": "json", "maxSize": 2000},
        {"name": "owner", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
        {"name": "tags", "type": "relation", "collectionId": tags["id"], "maxSelect": 5},
        {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 1048576,
         "mimeTypes": ["image/png"], "thumbs": ["50x50"]},
        {"name": "attachments", "type": "file", "maxSelect": 3, "maxSize": 1048576, "protected": True},
        {"name": "created", "type": "autodate", "onCreate": True},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ],
})

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4"
    "5a0000000049454e44ae426082"
)
user = call("POST", "/api/collections/fx_users/records", {
    "email": "ada@example.com", "password": "secret-password", "passwordConfirm": "secret-password",
    "name": "Ada", "verified": True,
})
tag_ids = [call("POST", "/api/collections/fx_tags/records", {"label": l})["id"] for l in ("rust", "db", "web")]
records = []
for i in range(3):
    body, ctype = multipart(
        {
            "title": f"Record number {i}", "code": f"AB{i:02d}", "body": "<p>hello <b>world</b></p>",
            "count": str(i * 10), "score": "1.5", "active": "true", "contact": f"c{i}@example.com",
            "site": "https://example.com/x", "due": "2024-05-01 10:00:00.000Z", "status": "published",
            "labels": "red", "meta": json.dumps({"n": i}), "owner": user["id"], "tags": tag_ids[i],
        },
        {"cover": ("cover.png", "image/png", PNG), "attachments": ("a.txt", "text/plain", b"attached")},
    )
    records.append(call("POST", "/api/collections/fx_all/records", body, ctype))
call("PATCH", "/api/settings", {"batch": {"enabled": True, "maxRequests": 20}})
# Roles and policies, so their list endpoints answer with items to check.
call("POST", "/api/policies", {"role": "editor", "collection": "fx_all", "action": "update",
                               "condition": "count < 500"})
call("POST", "/api/roles/links", {"role": "editor", "collection": "fx_users", "record": user["id"]})
call("POST", "/api/roles/links", {"role": "editor", "subject": "senior"})


def operation(match, params, method=None, regex=False):
    key = "include-path-regex" if regex else "include-path"
    out = f"[[operations]]\n{key} = {json.dumps(match)}\n"
    if method:
        out += f"include-method = {json.dumps(method)}\n"
    values = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in params.items())
    return out + f"parameters = {{ {values} }}\n\n"


one = "/api/collections/fx_all/records/{id}"
config = "".join([
    operation(one, {"id": records[0]["id"]}, "GET"),
    operation(one, {"id": records[0]["id"]}, "PATCH"),
    operation(one, {"id": records[2]["id"]}, "DELETE"),
    operation("/api/collections/fx_tags/records/{id}", {"id": tag_ids[0]}),
    operation("/api/collections/fx_users/records/{id}", {"id": user["id"]}),
    operation("/api/collections/fx_users/impersonate/{id}", {"id": user["id"]}),
    operation("/api/roles/records/{collection}/{record}", {"collection": "fx_users", "record": user["id"]}),
    operation("/api/policies/explain/{collection}", {"collection": "fx_all"}),
    operation("/api/files/{collection}/{record}/{filename}",
              {"collection": "fx_all", "record": records[1]["id"], "filename": records[1]["cover"]}),
    operation(r"^/api/collections/\{collection\}/(auth-|request-|confirm-|impersonate)",
              {"collection": "fx_users"}, regex=True),
    operation(r"^/api/collections/\{collection\}/records", {"collection": "fx_all"}, regex=True),
    operation("/api/collections/{collection}", {"collection": "fx_tags"}, "GET"),
    operation("/api/collections/{collection}", {"collection": "fx_tags"}, "PATCH"),
])
with open(CONFIG_OUT, "w") as f:
    f.write(config)
print(f"fixture: {len(tag_ids)} tags, 1 user, 3 fx_all records, 1 policy, 2 role links")
