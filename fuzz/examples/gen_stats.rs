//! How often the `evaluate` generator yields a ruleset that compiles (sanity check
//! of the generator): `cargo run --release --example gen_stats`.
use arbitrary::Unstructured;
use carelevel::Ruleset;
use carelevel_fuzz::Spec;

fn main() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let (mut ok, mut total) = (0, 0);
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..5000 {
        let bytes: Vec<u8> = (0..400)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let mut u = Unstructured::new(&bytes);
        let Ok(spec) = Spec::generate(&mut u) else {
            continue;
        };
        total += 1;
        match Ruleset::from_yaml(&spec.render()) {
            Ok(_) => ok += 1,
            Err(e) => {
                for d in e.diagnostics {
                    let key: String = d.message.chars().take(40).collect();
                    *errors.entry(key).or_default() += 1;
                }
            }
        }
    }
    println!("{ok}/{total} compile");
    for (k, v) in errors {
        println!("{v:6} {k}");
    }
}
