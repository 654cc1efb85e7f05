//! What showing or saving a YUV frame costs: 1080p NV12 to packed RGB, the
//! conversion the viewer does per frame on screen and `snapshot` once.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shmframe::{FrameMeta, PixelFormat};
use shmframe_convert::FrameView;

fn nv12_1080p(c: &mut Criterion) {
    let meta = FrameMeta::packed(1920, 1080, PixelFormat::Nv12);
    let len = meta.checked_len().expect("valid");
    let pixels: Vec<u8> = (0..len).map(|i| (i * 7 + i / 1920) as u8).collect();
    let mut group = c.benchmark_group("convert");
    group.throughput(Throughput::Elements(1));
    group.bench_function("nv12_1080p_to_rgb8", |b| {
        b.iter(|| FrameView::new(&meta, &pixels).expect("valid").to_rgb8());
    });
    let mut row = vec![0u8; 3 * 1920];
    group.bench_function("nv12_1080p_rows_into_buffer", |b| {
        b.iter(|| {
            let view = FrameView::new(&meta, &pixels).expect("valid");
            for y in 0..1080 {
                view.rgb_row(y, &mut row);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, nv12_1080p);
criterion_main!(benches);
