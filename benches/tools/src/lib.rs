//! Shared pieces of the measuring tools in `src/bin/` (see BENCHMARKS.md for how they are used).

use std::time::Duration;

pub mod codegen;

/// The catalog's messages and typed client, generated from `examples/catalog/proto/catalog.proto`.
pub mod catalog {
    #![allow(missing_docs)]
    tonic::include_proto!("catalog");
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2),
    }
}

/// A gRPC length-prefixed message: the uncompressed flag byte, the big-endian length, the bytes.
///
/// # Errors
/// When the message is longer than gRPC's 32-bit length prefix can say.
pub fn grpc_frame(message: &[u8]) -> anyhow::Result<Vec<u8>> {
    let len = u32::try_from(message.len()).map_err(|_| {
        anyhow::anyhow!(
            "a {}-byte message does not fit one gRPC frame",
            message.len()
        )
    })?;
    let mut frame = Vec::with_capacity(5 + message.len());
    frame.push(0);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), Some(ms(2)));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            Some(Duration::from_micros(2500))
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn frame_has_flag_and_big_endian_length() {
        assert_eq!(
            grpc_frame(&[0x0a, 0x01, 0x31]).unwrap(),
            [0, 0, 0, 0, 3, 0x0a, 0x01, 0x31]
        );
        assert_eq!(grpc_frame(&[]).unwrap(), [0, 0, 0, 0, 0]);
    }
}
