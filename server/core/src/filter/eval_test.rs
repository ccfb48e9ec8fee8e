use super::{ids, Fx};

#[test]
fn direct_field_operators() {
    let fx = Fx::new();
    ids!(fx, "posts", "title = 'Hello World'" => ["p1"]);
    ids!(fx, "posts", "title != 'Hello World'" => ["p2", "p3", "p4"]);
    ids!(fx, "posts", "title > 'S'" => ["p2", "p4"]);
    ids!(fx, "posts", "title >= 'Second post'" => ["p2", "p4"]);
    ids!(fx, "posts", "title < 'Hello World'" => ["p3"]);
    ids!(fx, "posts", "title <= 'Hello World'" => ["p1", "p3"]);
    ids!(fx, "posts", "title ~ 'o w'" => ["p1"]);
    ids!(fx, "posts", "title !~ 'o'" => ["p3", "p4"]);
    ids!(fx, "posts", "title ~ 'hello%'" => ["p1"]);
    ids!(fx, "posts", "title ~ '%post'" => ["p2"]);
    ids!(fx, "posts", "title ~ 'S_cond'" => []);
    ids!(fx, "posts", "title ~ 'S_cond%'" => ["p2"]);
    ids!(fx, "posts", "views > 5" => ["p1", "p3"]);
    ids!(fx, "posts", "views >= 10 && views < 25.5" => ["p1"]);
    ids!(fx, "posts", "views <= 0" => ["p2", "p4"]);
    ids!(fx, "posts", "views = -3" => ["p4"]);
    ids!(fx, "posts", "5 < views" => ["p1", "p3"]);
    ids!(fx, "posts", "published = true" => ["p1", "p3"]);
    ids!(fx, "posts", "published = false" => ["p2", "p4"]);
    ids!(fx, "posts", "published = 1" => ["p1", "p3"]);
    ids!(fx, "posts", "published != true" => ["p2", "p4"]);
    ids!(fx, "posts", "id = 'p2' || id = 'p3'" => ["p2", "p3"]);
    ids!(fx, "posts", "(id = 'p1' || id = 'p2') && views > 5" => ["p1"]);
}

#[test]
fn sqlite_type_coercion() {
    let fx = Fx::new();
    // A numeric string against a number column is a number.
    ids!(fx, "posts", "views = '10'" => ["p1"]);
    ids!(fx, "posts", "views > '9'" => ["p1", "p3"]);
    // Non-numeric text sorts after every number.
    ids!(fx, "posts", "views < 'abc'" => ["p1", "p2", "p3", "p4"]);
    // A number against a text column is compared as its SQLite text ("10.0").
    ids!(fx, "posts", "title = 10" => []);
    ids!(fx, "posts", "views ~ 25" => ["p3"]);
    // Booleans are 0/1.
    ids!(fx, "posts", "published = '1'" => ["p1", "p3"]);
    ids!(fx, "posts", "published = 'true'" => []);
    // Literal against literal.
    ids!(fx, "posts", "1 = 1" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "'a' = 'b'" => []);
    ids!(fx, "posts", "2 > 10" => []);
    ids!(fx, "posts", "'2' > 10" => ["p1", "p2", "p3", "p4"]);
}

#[test]
fn null_compares_like_empty() {
    let fx = Fx::new();
    ids!(fx, "posts", "title = null" => ["p3"]);
    ids!(fx, "posts", "title = ''" => ["p3"]);
    ids!(fx, "posts", "null = title" => ["p3"]);
    ids!(fx, "posts", "title != null" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "author = ''" => ["p3"]);
    ids!(fx, "posts", "published_at = null" => ["p2", "p4"]);
    // A number field holds 0, which is not empty.
    ids!(fx, "posts", "views = null" => []);
    ids!(fx, "posts", "views != null" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "null = null" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "null != ''" => []);
}

#[test]
fn relation_paths() {
    let fx = Fx::new();
    ids!(fx, "posts", "author.name = 'Ann'" => ["p1"]);
    ids!(fx, "posts", "author.team.name = 'red'" => ["p1"]);
    ids!(fx, "posts", "author.id = 'u2'" => ["p2"]);
    ids!(fx, "posts", "author.age > 10" => ["p1", "p2"]);
    // A missing relation is one NULL row: equal to '', unequal to anything else, and
    // never ordered.
    ids!(fx, "posts", "author.name = ''" => ["p3"]);
    ids!(fx, "posts", "author.name != 'Ann'" => ["p2", "p3", "p4"]);
    ids!(fx, "posts", "author.age < 100" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "author.team.name = ''" => ["p3", "p4"]);
    ids!(fx, "posts", "author.friends.name ?= 'Bob'" => ["p1", "p4"]);
    ids!(fx, "comments", "post.author.name = 'Ann'" => ["c1", "c2"]);
    ids!(fx, "comments", "post.tags.name ?= 'go'" => ["c1", "c2"]);
    ids!(fx, "users", "friends.friends.name ?= 'Bob'" => ["u3"]);
}

#[test]
fn multi_valued_paths_match_all_unless_any() {
    let fx = Fx::new();
    // p1 has rust+go, p2 rust, p3 none, p4 Zig + a dangling id.
    ids!(fx, "posts", "tags.name = 'rust'" => ["p2"]);
    ids!(fx, "posts", "tags.name ?= 'rust'" => ["p1", "p2"]);
    ids!(fx, "posts", "tags.name != 'rust'" => ["p3", "p4"]);
    ids!(fx, "posts", "tags.name ?!= 'rust'" => ["p1", "p3", "p4"]);
    // NULL comparisons (empty set, dangling ids) never count as failing items.
    ids!(fx, "posts", "tags.weight > 4" => ["p2", "p4"]);
    ids!(fx, "posts", "tags.weight ?> 4" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "tags.weight >= 3" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "tags.name ~ 'r'" => ["p2"]);
    ids!(fx, "posts", "tags.name ?~ 'O'" => ["p1"]);
    ids!(fx, "posts", "tags.name !~ 'z'" => ["p1", "p2"]);
    ids!(fx, "posts", "tags.name ?!~ 'rust'" => ["p1", "p4"]);
    ids!(fx, "posts", "tags.id ?= 't3'" => ["p4"]);
    ids!(fx, "posts", "tags.name = ''" => ["p3"]);
    // The multi-valued side may be on the right.
    ids!(fx, "posts", "'rust' = tags.name" => ["p2"]);
    ids!(fx, "posts", "'rust' ?= tags.name" => ["p1", "p2"]);
    // Many against many: every pair.
    ids!(fx, "posts", "tags.weight > comments_via_post.score" => ["p2"]);
    ids!(fx, "posts", "tags.weight ?< comments_via_post.score" => ["p1"]);
}

#[test]
fn back_relations() {
    let fx = Fx::new();
    ids!(fx, "posts", "comments_via_post.message ?~ 'great'" => ["p1", "p2"]);
    ids!(fx, "posts", "comments_via_post.message ~ 'great'" => ["p2"]);
    ids!(fx, "posts", "comments_via_post.score > 3" => ["p2"]);
    ids!(fx, "posts", "comments_via_post.score >= 2" => ["p1", "p2"]);
    ids!(fx, "posts", "comments_via_post.id = ''" => ["p3", "p4"]);
    ids!(fx, "posts", "comments_via_post.author.name ?= 'Ann'" => ["p2"]);
    ids!(fx, "users", "posts_via_author.title ?= 'Hello World'" => ["u1"]);
    ids!(fx, "users", "users_via_friends.name ?= 'cid'" => ["u1", "u2"]);
    ids!(fx, "teams", "members_via_team.role = 'admin'" => ["tm2"]);
}

#[test]
fn conjunctions_share_join_rows() {
    let fx = Fx::new();
    // Both conditions must hold for the same tag, as with PocketBase's shared JOIN.
    ids!(fx, "posts", "tags.name ?= 'rust' && tags.weight ?= 5" => ["p1", "p2"]);
    ids!(fx, "posts", "tags.name ?= 'rust' && tags.weight ?= 3" => []);
    ids!(fx, "posts", "tags.name ?= 'rust' && tags.name ?= 'go'" => []);
    // `||` and independent paths do not couple.
    ids!(fx, "posts", "tags.name ?= 'rust' || tags.name ?= 'Zig'" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "tags.name ?= 'go' && comments_via_post.score ?= 2" => ["p1"]);
    ids!(fx, "posts", "(tags.name ?= 'rust' || views > 100) && tags.weight ?= 3" => []);
    // A relation path and a field of the same relation share the row.
    ids!(fx, "posts", "author.name = 'Ann' && author.team.size = 3" => ["p1"]);
}

#[test]
fn collection_joins() {
    let fx = Fx::new();
    let u1 = fx.auth("u1");
    let u2 = fx.auth("u2");
    let member = "@collection.members.team ?= id && @collection.members.user ?= @request.auth.id";
    ids!(fx, "teams", member, &u1 => ["tm1"]);
    ids!(fx, "teams", member, &u2 => ["tm1", "tm2"]);
    let admin = format!("{member} && @collection.members.role ?= 'admin'");
    ids!(fx, "teams", &admin, &u1 => ["tm1"]);
    ids!(fx, "teams", &admin, &u2 => ["tm2"]);
    // Aliases are separate joins.
    let aliased = "@collection.members:m.team ?= id && @collection.members:x.user ?= 'u1'";
    ids!(fx, "teams", aliased => ["tm1", "tm2"]);
    ids!(fx, "teams", "@collection.members.team = id" => []);
    ids!(fx, "teams", "@collection.members.role ?= 'admin'" => ["tm1", "tm2"]);
    ids!(fx, "teams", "@collection.tags.weight > 2" => ["tm1", "tm2"]);
    ids!(fx, "teams", "@collection.tags.weight > 3" => []);
    ids!(fx, "teams", "@collection.teams_id.size ?> 5 && size < 5" => ["tm1"]);
    ids!(fx, "teams", "@collection.members.user.name ?= 'Bob' && @collection.members.team ?= id" => ["tm1", "tm2"]);
}

#[test]
fn each_and_length_modifiers() {
    let fx = Fx::new();
    ids!(fx, "posts", "labels:each = 'a'" => ["p4"]);
    ids!(fx, "posts", "labels:each ?= 'a'" => ["p1", "p4"]);
    ids!(fx, "posts", "labels:each != 'c'" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "labels:length = 2" => ["p1"]);
    ids!(fx, "posts", "labels:length = 0" => ["p2"]);
    ids!(fx, "posts", "tags:length > 1" => ["p1", "p4"]);
    ids!(fx, "posts", "files:each ~ '.png'" => ["p1"]);
    ids!(fx, "posts", "files:length = 1" => ["p3"]);
    ids!(fx, "posts", "status:each = 'live'" => ["p1", "p4"]);
    ids!(fx, "posts", "status:length = 0" => ["p3"]);
    ids!(fx, "posts", "author:length = 1" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "tags:each ?= 't3'" => ["p4"]);
    // Without a modifier a multi-valued field compares as its JSON text.
    ids!(fx, "posts", "labels ~ 'a'" => ["p1", "p4"]);
    ids!(fx, "posts", "labels = 'a'" => []);
    ids!(fx, "posts", "labels = '[\"a\"]'" => ["p4"]);
    ids!(fx, "posts", "labels:each ?= 'a' && labels:each ?= 'b'" => []);
}

#[test]
fn lower_modifier() {
    let fx = Fx::new();
    ids!(fx, "posts", "title:lower = 'hello world'" => ["p1"]);
    ids!(fx, "posts", "title:lower = 'ZIG THINGS'" => []);
    ids!(fx, "posts", "title:lower ~ 'zig'" => ["p4"]);
    ids!(fx, "posts", "author.name:lower = 'ann'" => ["p1"]);
    ids!(fx, "posts", "tags.name:lower ?= 'zig'" => ["p4"]);
    ids!(fx, "posts", "meta.s:lower = 'x'" => ["p1", "p4"]);
}

#[test]
fn json_fields() {
    let fx = Fx::new();
    ids!(fx, "posts", "meta.a.b = 5" => ["p1"]);
    ids!(fx, "posts", "meta.a.b = '5'" => ["p3"]);
    ids!(fx, "posts", "meta.a.b > 4" => ["p1", "p3"]);
    ids!(fx, "posts", "meta.s = 'x'" => ["p1"]);
    ids!(fx, "posts", "meta.list.1 = 2" => ["p1"]);
    ids!(fx, "posts", "meta = null" => ["p2"]);
    ids!(fx, "posts", "meta.missing = null" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "meta.s = ''" => []);
    ids!(fx, "posts", "meta.s != 'x'" => ["p2", "p3", "p4"]);
    ids!(fx, "posts", "meta.a ~ '\"b\":5'" => ["p1"]);
}

#[test]
fn macros_compare_as_text_dates() {
    let fx = Fx::new();
    ids!(fx, "posts", "published_at != '' && published_at < @now" => ["p1"]);
    ids!(fx, "posts", "published_at > @now" => ["p3"]);
    ids!(fx, "posts", "published_at < @now" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "@year >= 2024 && @month > 0 && @day > 0 && @hour >= 0" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@todayStart <= @now && @now <= @todayEnd && @yesterday < @tomorrow" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@monthStart < @monthEnd && @yearStart < @yearEnd && @weekday < 7" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@second < 60 && @minute < 60" => ["p1", "p2", "p3", "p4"]);
}

#[test]
fn functions() {
    let fx = Fx::new();
    ids!(fx, "posts", "strftime('%Y', published_at) = '2024'" => ["p1"]);
    ids!(fx, "posts", "strftime('%Y-%m', published_at, '+1 month') = '2024-02'" => ["p1"]);
    ids!(fx, "posts", "strftime('%Y', published_at) = ''" => ["p2", "p4"]);
    ids!(fx, "posts", "strftime('%Y') > '2000'" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "geoDistance(meta.lon, meta.lat, 23.32, 42.69) < 200" => ["p1"]);
    ids!(fx, "posts", "geoDistance(meta.lon, meta.lat, 23.32, 42.69) < 100" => []);
    ids!(fx, "posts", "geoDistance(meta.lon, meta.lat, 23.32, 42.69) = null" => ["p2", "p3", "p4"]);
}
