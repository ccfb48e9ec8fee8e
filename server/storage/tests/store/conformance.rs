use basalt_storage::conformance::run_conformance;
use basalt_storage::MemoryStore;

#[test]
fn memory_store_conforms() {
    run_conformance(MemoryStore::new);
}

#[test]
fn sled_store_conforms() {
    run_conformance(crate::temp_sled);
}
