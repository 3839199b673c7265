//! Arbitrary bytes as binary images: decoding must fail cleanly or succeed, and two decoded
//! images must go through every rule, the deprecation policy and every printer without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protoc_gen_cloudrun::breaking::{
    BreakingConfig, CheckOptions, ConfigVersion, ErrorFormat, check_images, decode_image, render,
    rules,
};

fuzz_target!(|data: &[u8]| {
    // A little-endian u32 prefix says where the previous image ends and the current one
    // begins, so the rules see two different (and differently broken) versions.
    if data.len() < 4 {
        return;
    }
    let (head, rest) = data.split_at(4);
    let cut = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let (Ok(previous), Ok(current)) = (decode_image(a, "previous"), decode_image(b, "current"))
    else {
        return;
    };
    let config = BreakingConfig {
        version: ConfigVersion::V2,
        rules: rules::all().iter().collect(),
        ignore: Vec::new(),
        ignore_only: Default::default(),
        ignore_unstable_packages: true,
    };
    for strict in [true, false] {
        let options = CheckOptions {
            strict,
            exclude_imports: false,
        };
        let findings = check_images(&current, &previous, &config, &options);
        for format in [ErrorFormat::Text, ErrorFormat::Json, ErrorFormat::GithubActions] {
            let _ = render(&findings, format);
        }
    }
    // Each image against itself has no breaking change.
    let same = check_images(&current, &current, &config, &CheckOptions::default());
    assert!(same.is_empty(), "an image breaks against itself: {same:?}");
});
