//! A global allocator that counts the allocations of the current thread, for tests
//! that prove a code path does not allocate (`tests/no_alloc.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting each allocation and reallocation of the calling thread.
pub struct Counting;

#[allow(
    unsafe_code,
    reason = "a global allocator is an unsafe trait impl; every call is forwarded to System \
              unchanged, only a thread-local counter is added"
)]
// SAFETY: every method forwards its arguments to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn bump() {
    // `try_with`: the counter may already be gone while the thread exits.
    let _ = COUNT.try_with(|c| c.set(c.get().wrapping_add(1)));
}

/// How many allocations the calling thread makes while running `f`.
pub fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = COUNT.with(Cell::get);
    let out = f();
    let after = COUNT.with(Cell::get);
    (after.wrapping_sub(before), out)
}
