//! Re-embeds the admin UI whenever its build output changes (new hashed files
//! included), or appears.

fn main() {
    let dist = std::path::Path::new("../../admin-ui/dist");
    if dist.exists() {
        println!("cargo:rerun-if-changed=../../admin-ui/dist");
    } else {
        println!("cargo:rerun-if-changed=../../admin-ui");
    }
}
