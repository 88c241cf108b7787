//! `paws-bench`: the Rust side of the macro benchmark (`benches/run.sh` drives it).
//!
//! Every measurement is printed as one JSON object per line on stdout.

use anyhow::Result;
use clap::{Parser, Subcommand};
use paws_bench::{float64_peak, read_bandwidth, synthetic, synthetic_scaled, Workload};
use paws_core::access::source::{GradientSource, InMemorySource};
use paws_core::experiment::plan::{comparisons, plan};
use paws_core::experiment::{self, train::train_and_evaluate};
use paws_core::kernels::batch_kernel::Simd;
use paws_core::kernels::gradient::KernelWeights;
use paws_core::optimiser::batch::{self, BatchModel};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "paws benchmarks (see benches/README.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the synthetic dataset as Parquet (for Spark and Python).
    Gen {
        #[arg(long, default_value_t = 4096)]
        dim: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Rows per breed, as a multiple of the real counts.
        #[arg(long, default_value_t = 1)]
        copies: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Runs a workload in process on the synthetic dataset.
    Run {
        #[arg(long, value_enum)]
        workload: Workload,
        #[arg(long, default_value_t = 4096)]
        dim: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Also train the models one at a time (the engine before batching).
        #[arg(long)]
        one_by_one: bool,
    },
    /// Kernel throughput: the single-model pass against the read bandwidth, the
    /// batched pass in GFLOP/s, on every SIMD path.
    Kernels {
        #[arg(long, default_value_t = 4096)]
        dim: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Only the one-model pass over dense against sparse blocks (also part of
    /// `kernels`): for profiling the sparse kernel.
    Sparse {
        #[arg(long, default_value_t = 4096)]
        dim: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gen {
            dim,
            seed,
            copies,
            output,
        } => {
            let d = synthetic_scaled(dim, seed, copies);
            paws_core::data::parquet_io::write_parquet(&output, &d)?;
            println!(
                "{}",
                json!({"gen": output, "rows": d.len(), "dim": dim, "bytes": d.len() * dim * 4})
            );
        }
        Command::Run {
            workload,
            dim,
            seed,
            one_by_one,
        } => {
            let d = synthetic(dim, seed);
            let cfg = workload.config();
            let t = Instant::now();
            let out = experiment::run(&d, &cfg, "bench", &|_, _| {})?;
            let total = t.elapsed().as_secs_f64();
            let mean_acc =
                out.rows.iter().map(|r| r.predict_pct).sum::<f64>() / out.rows.len() as f64;
            // The least float64 work of the sweep: every iteration of a model computes the
            // margin of each of its training rows, a multiply and an add per feature.
            // Gradient terms come on top. Over the machine's peak (`kernels`), a floor.
            let margin_flops: f64 = out
                .rows
                .iter()
                .map(|r| 2.0 * r.nb_train as f64 * dim as f64 * r.iterations_run as f64)
                .sum();
            println!(
                "{}",
                json!({"workload": format!("{workload:?}"), "engine": "paws in-process (batched)",
                       "models": out.rows.len(), "seconds": total,
                       "train_seconds": out.times.train.as_secs_f64(), "mean_accuracy_pct": mean_acc,
                       "margin_gflop": margin_flops / 1e9,
                       "simd": Simd::detect().name(), "threads": rayon::current_num_threads()})
            );
            if one_by_one {
                let comps = comparisons(&d, &cfg)?;
                let tasks = plan(&d, &cfg, &comps);
                let t = Instant::now();
                for task in &tasks {
                    train_and_evaluate(&d, &cfg, task)?;
                }
                println!(
                    "{}",
                    json!({"workload": format!("{workload:?}"), "engine": "paws in-process (one model at a time)",
                           "models": tasks.len(), "seconds": t.elapsed().as_secs_f64()})
                );
            }
        }
        Command::Kernels { dim, seed } => kernels(dim, seed)?,
        Command::Sparse { dim, seed } => {
            let d = synthetic(dim, seed);
            let labels: Vec<f64> = d.labels().iter().map(|&c| (c == 12) as u8 as f64).collect();
            sparse_pass(d.features(), dim, &labels, &pass_weights(dim))?;
        }
    }
    Ok(())
}

/// `dst (rows × cols, row-major) = lhs (rows × inner) · rhs (inner × cols)` with the `gemm`
/// crate on all threads; `lhs` and `rhs` are given with their (column, row) strides.
fn matmul(
    dst: &mut [f64],
    dst_row_stride: usize,
    lhs: &[f64],
    lhs_strides: (usize, usize),
    rhs: &[f64],
    rhs_strides: (usize, usize),
    (rows, cols, inner): (usize, usize, usize),
) {
    let last = |(cs, rs): (usize, usize), r: usize, c: usize| (r - 1) * rs + (c - 1) * cs;
    assert!(dst.len() > last((1, dst_row_stride), rows, cols));
    assert!(
        lhs.len() > last(lhs_strides, rows, inner) && rhs.len() > last(rhs_strides, inner, cols)
    );
    // Safety: the asserts above keep every element the strides reach inside the slices.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            inner,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            false,
            lhs.as_ptr(),
            lhs_strides.0 as isize,
            lhs_strides.1 as isize,
            rhs.as_ptr(),
            rhs_strides.0 as isize,
            rhs_strides.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        )
    }
}

fn kernels(dim: usize, seed: u64) -> Result<()> {
    let d = synthetic(dim, seed);
    let n = d.len();
    let bytes = (n * dim * 4) as f64;
    let bw = read_bandwidth(1 << 30, 5);
    println!(
        "{}",
        json!({"probe": "read bandwidth", "gb_per_s": bw, "threads": rayon::current_num_threads()})
    );
    let (peak, width) = float64_peak(5);
    println!(
        "{}",
        json!({"probe": "float64 multiply-add peak", "gflop_per_s": peak, "simd": width,
               "threads": rayon::current_num_threads()})
    );

    let rows: Vec<u32> = (0..n as u32).collect();
    let labels: Vec<f64> = d.labels().iter().map(|&c| (c == 12) as u8 as f64).collect();
    let w = pass_weights(dim);
    // The single-model pass: one model over every row (W1's split 1.0).
    let src = InMemorySource::new(
        paws_core::kernels::gradient::LossKind::Hinge,
        d.features(),
        dim,
        &rows,
        &labels,
        None,
    );
    let best = (0..7)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(src.gradient_sum(&w, i + 1, 1.0));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    println!(
        "{}",
        json!({"kernel": "single-model pass", "rows": n, "dim": dim, "seconds": best,
               "gb_per_s": bytes / best / 1e9, "share_of_probe": bytes / best / 1e9 / bw})
    );

    sparse_pass(d.features(), dim, &labels, &w)?;

    // The reference the batched kernel's choice is measured against: the `gemm` crate's
    // f64 matrix products for the same pass (margins X·Vᵀ, gradients Cᵀ·X over all rows).
    // It uses FMA and its own summation order, so its results are not the one-model
    // kernel's bits: paws does not use it (see rust/paws-core/src/batch_kernel.rs).
    let x64: Vec<f64> = d.features().iter().map(|&v| v as f64).collect();
    for k in [32usize, 64] {
        let v: Vec<f64> = (0..k * dim)
            .map(|i| ((i % 13) as f64 - 6.0) * 1e-4)
            .collect();
        let mut m = vec![0.0; n * k];
        let mut g = vec![0.0; k * dim];
        let best = (0..3)
            .map(|_| {
                let t = Instant::now();
                // m (n × k) = X (n × dim) · Vᵀ (dim × k), then g (k × dim) = Mᵀ (k × n) · X.
                matmul(&mut m, k, &x64, (1, dim), &v, (dim, 1), (n, k, dim));
                matmul(&mut g, dim, &m, (k, 1), &x64, (1, dim), (k, dim, n));
                std::hint::black_box(&g);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min);
        let flops = 4.0 * n as f64 * dim as f64 * k as f64;
        println!(
            "{}",
            json!({"kernel": "gemm crate f64 pass", "models": k, "seconds": best,
                   "gflop_per_s": flops / best / 1e9})
        );
    }

    // The batched pass: K models over every row (one-vs-rest models of K splits).
    for k in [1usize, 8, 32, 64] {
        let models: Vec<BatchModel> = (0..k)
            .map(|_| BatchModel {
                rows: &rows,
                labels: &labels,
                weights: None,
            })
            .collect();
        let plan = batch::BatchPlan::new(&models)?;
        let owned: Vec<KernelWeights> = (0..k)
            .map(|j| KernelWeights {
                v: w.v.iter().map(|v| v * (1.0 + j as f64 * 0.01)).collect(),
                offset: 0.0,
            })
            .collect();
        let kw: Vec<Option<&KernelWeights>> = owned.iter().map(Some).collect();
        for simd in Simd::available() {
            let best = (0..3)
                .map(|i| {
                    let t = Instant::now();
                    std::hint::black_box(batch::gradient_sums(
                        simd,
                        paws_core::kernels::gradient::LossKind::Hinge,
                        d.features(),
                        dim,
                        &models,
                        &plan,
                        &kw,
                        i + 1,
                        1.0,
                    ));
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::MAX, f64::min);
            // Margins and gradient: a multiply and an add each, per row, feature, model.
            let flops = 4.0 * n as f64 * dim as f64 * k as f64;
            println!(
                "{}",
                json!({"kernel": "batched pass", "models": k, "simd": simd.name(), "seconds": best,
                       "gflop_per_s": flops / best / 1e9, "gb_per_s": bytes / best / 1e9})
            );
        }
    }
    Ok(())
}

/// The weights of the kernel passes: small, so that most rows are inside the hinge's margin.
fn pass_weights(dim: usize) -> KernelWeights {
    KernelWeights {
        v: (0..dim).map(|p| ((p % 13) as f64 - 6.0) * 1e-4).collect(),
        offset: 0.0,
    }
}

/// The drop-in's per-task pass on one thread (`SweepAccumulator`, one model, every row)
/// over dense and over sparse blocks of the same rows, with a share of the values
/// zeroed: where sparse blocks start to pay (`LabeledInput`'s threshold).
fn sparse_pass(x: &[f32], dim: usize, labels: &[f64], w: &KernelWeights) -> Result<()> {
    use paws_core::access::selection::Selection;
    use paws_core::kernels::gradient::LossKind;
    use paws_core::kernels::sparse::{from_dense, SparseRows};
    use paws_core::optimiser::batch::{BlockRows, SweepAccumulator};
    let n = x.len() / dim;
    let rows: Vec<i64> = (0..n as i64).collect();
    let sel = Selection {
        rows: &rows,
        labels,
        weights: None,
    };
    let best = |f: &mut dyn FnMut(u32)| {
        (0..5)
            .map(|i| {
                let t = Instant::now();
                f(i + 1);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    for density in [0.1, 0.25, 0.4, 0.6] {
        // Keep about `density` of the values (a fixed hash of the position decides).
        let xs: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                // splitmix64's finaliser: no pattern across a row's lanes (j mod 4).
                let mut h = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
                h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                h = (h ^ (h >> 31)) >> 40;
                if (h as f64) < density * (1u64 << 24) as f64 {
                    v
                } else {
                    0.0
                }
            })
            .collect();
        let nnz = xs.iter().filter(|&&v| v != 0.0).count();
        let (ptr, idx, val) = from_dense(&xs, dim);
        let sparse = SparseRows::new(&ptr, &idx, &val, dim)?;
        let (start, ids) = ([0, n as i32], [0]);
        let pass = |rows: BlockRows| {
            best(&mut |it| {
                let mut acc = SweepAccumulator::new(1, dim);
                acc.add_selected(LossKind::Hinge, rows, 0, &ids, &start, &sel, &[w], it, 1.0)
                    .expect("a pass");
                std::hint::black_box(acc.finish());
            })
        };
        let dense_s = pass(BlockRows::Dense(&xs));
        let sparse_s = pass(BlockRows::Sparse(sparse));
        println!(
            "{}",
            json!({"kernel": "one-model task pass, dense vs sparse blocks", "rows": n, "dim": dim,
                   "density": nnz as f64 / xs.len() as f64, "dense_seconds": dense_s,
                   "sparse_seconds": sparse_s, "sparse_speedup": dense_s / sparse_s,
                   "dense_mb": xs.len() as f64 * 4e-6, "sparse_mb": nnz as f64 * 8e-6})
        );
    }
    Ok(())
}
