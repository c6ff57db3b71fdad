//! Time compiling and assessing ruleset files: `cargo run --release --example compile_time -- FILE...`.
use carelevel::Ruleset;
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let t = std::time::Instant::now();
        let rs = Ruleset::from_yaml(&text);
        let compiled = t.elapsed();
        let Ok(rs) = rs else {
            println!(
                "{path}: error after {compiled:?}: {}",
                rs.unwrap_err().diagnostics.len()
            );
            continue;
        };
        let t = std::time::Instant::now();
        let a = rs.new_answers();
        let level = rs.assess(&a).map(|x| x.level.rank);
        println!(
            "{path}: compiled in {compiled:?}; all-missing assess {level:?} in {:?}",
            t.elapsed()
        );
    }
}
