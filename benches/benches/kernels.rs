//! Criterion micro-benchmarks of the numeric kernels, on one 256-row chunk of 4096-d
//! rows (the shape of VGG16 fc2 features), on every SIMD path this CPU has:
//! - `single_model_chunk`: the one-model gradient over the chunk, in bytes of features
//!   read per second (criterion prints GB/s; compare with `paws-bench kernels`' probe);
//! - `margins/K` and `gradients/K`: the batched kernels for K models, in floating-point
//!   operations per second (criterion prints "elem/s": read as FLOP/s).
//!
//!   cargo bench -p paws-bench --bench kernels

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use paws_core::access::source::{GradientSource, InMemorySource};
use paws_core::data::exact_sum::GradientSum;
use paws_core::kernels::batch_kernel::{gradients, margins, Simd};
use paws_core::kernels::gradient::{KernelWeights, LossKind};

const ROWS: usize = 256;
const DIM: usize = 4096;

fn chunk() -> Vec<f32> {
    (0..ROWS * DIM)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0)
        .collect()
}

fn bench(c: &mut Criterion) {
    let x = chunk();
    let rows: Vec<u32> = (0..ROWS as u32).collect();
    let labels: Vec<f64> = rows.iter().map(|r| (r % 2) as f64).collect();
    let w = KernelWeights {
        v: vec![1e-4; DIM],
        offset: 0.0,
    };
    let src = InMemorySource::new(LossKind::Hinge, &x, DIM, &rows, &labels, None);
    let mut g = c.benchmark_group("single_model_chunk");
    g.throughput(Throughput::Bytes((ROWS * DIM * 4) as u64));
    g.bench_function("hinge", |b| {
        b.iter(|| black_box::<GradientSum>(src.gradient_sum(&w, 1, 1.0)))
    });
    g.finish();

    for k in [8usize, 32, 64] {
        let v: Vec<Vec<f64>> = (0..k).map(|j| vec![1e-4 * (j + 1) as f64; DIM]).collect();
        let vs: Vec<&[f64]> = v.iter().map(|m| m.as_slice()).collect();
        let flops = (2 * ROWS * DIM * k) as u64;
        let mut g = c.benchmark_group(format!("margins/{k}"));
        g.throughput(Throughput::Elements(flops));
        for simd in Simd::available() {
            let mut out = vec![0.0; ROWS * k];
            g.bench_with_input(BenchmarkId::from_parameter(simd.name()), &simd, |b, &s| {
                b.iter(|| margins(s, &x, DIM, &vs, &mut out, k))
            });
        }
        g.finish();
        let coef: Vec<f64> = (0..ROWS * k)
            .map(|i| if i % 3 == 0 { 0.0 } else { 1.0 })
            .collect();
        let mut g = c.benchmark_group(format!("gradients/{k}"));
        g.throughput(Throughput::Elements(flops));
        for simd in Simd::available() {
            let mut gs: Vec<Vec<f64>> = vec![vec![0.0; DIM]; k];
            g.bench_with_input(BenchmarkId::from_parameter(simd.name()), &simd, |b, &s| {
                b.iter(|| {
                    let mut refs: Vec<&mut [f64]> =
                        gs.iter_mut().map(|g| g.as_mut_slice()).collect();
                    gradients(s, &x, DIM, &coef, k, &mut refs)
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
