//! The in-memory feature dataset: one contiguous row-major `f32` matrix, the image
//! name and breed of every row, and where the features came from.

use crate::data::error::{PawsError, Result};
use serde::{Deserialize, Serialize};

/// The 37 breeds of Oxford-IIIT Pet. A requested breed from this list that a dataset
/// lacks is "a class with no rows", anything else is "an unknown class".
pub const OXFORD_PET_BREEDS: [&str; 37] = [
    "Abyssinian",
    "american_bulldog",
    "american_pit_bull_terrier",
    "basset_hound",
    "beagle",
    "Bengal",
    "Birman",
    "Bombay",
    "boxer",
    "British_Shorthair",
    "chihuahua",
    "Egyptian_Mau",
    "english_cocker_spaniel",
    "english_setter",
    "german_shorthaired",
    "great_pyrenees",
    "havanese",
    "japanese_chin",
    "keeshond",
    "leonberger",
    "Maine_Coon",
    "miniature_pinscher",
    "newfoundland",
    "Persian",
    "pomeranian",
    "pug",
    "Ragdoll",
    "Russian_Blue",
    "saint_bernard",
    "samoyed",
    "scottish_terrier",
    "shiba_inu",
    "Siamese",
    "Sphynx",
    "staffordshire_bull_terrier",
    "wheaten_terrier",
    "yorkshire_terrier",
];

/// Oxford-IIIT Pet's naming rule: a breed whose name starts with a capital is a cat.
pub fn species_of(breed: &str) -> &'static str {
    match breed.chars().next() {
        Some(c) if c.is_uppercase() => "cat",
        _ => "dog",
    }
}

/// The breed in an Oxford-IIIT Pet file name: `Bengal_12.jpg` or `Bengal_12.jpg.json`
/// gives `Bengal`. `None` when the name has no `_<n>` part.
pub fn breed_from_file_name(name: &str) -> Option<&str> {
    let stem = name
        .strip_suffix(".json")
        .unwrap_or(name)
        .rsplit_once('.')
        .map_or(name, |(s, _)| s);
    let (breed, number) = stem.rsplit_once('_')?;
    (!breed.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some(breed)
}

/// Which network and output produced the features; stored in Parquet metadata and in
/// every saved model, so a model is never applied to features of another extractor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extractor {
    /// A model id such as `efficientnet-lite0-imagenet` or `vgg16-fc2`.
    pub model: String,
    /// The feature dimension.
    pub dim: usize,
}

impl Extractor {
    pub fn unknown(dim: usize) -> Self {
        Extractor {
            model: "unknown".into(),
            dim,
        }
    }
}

/// Features of many images: row `i` is `features[i*dim .. (i+1)*dim]`.
#[derive(Debug, Clone)]
pub struct Dataset {
    dim: usize,
    features: Vec<f32>,
    images: Vec<String>,
    /// Index into `classes` for every row.
    labels: Vec<u32>,
    /// Class (breed) names, sorted so that indices are stable for a given set of breeds.
    classes: Vec<String>,
    extractor: Extractor,
    /// Where the data came from, for error messages ("examples/features.parquet").
    source_name: String,
}

impl Dataset {
    /// Builds a dataset from rows given as (image, breed) with their features laid out
    /// row-major. Checks shapes and that every value is finite.
    pub fn new(
        dim: usize,
        features: Vec<f32>,
        images: Vec<String>,
        breeds: Vec<String>,
        extractor: Extractor,
        source_name: impl Into<String>,
    ) -> Result<Self> {
        let source_name = source_name.into();
        if dim == 0 {
            return Err(PawsError::invalid(format!(
                "{source_name}: feature dimension is 0"
            )));
        }
        if images.len() != breeds.len() || features.len() != images.len() * dim {
            return Err(PawsError::invalid(format!(
                "{source_name}: {} images, {} labels and {} feature values do not make rows of {dim}",
                images.len(),
                breeds.len(),
                features.len()
            )));
        }
        if let Some(pos) = features.iter().position(|v| !v.is_finite()) {
            let row = pos / dim;
            return Err(PawsError::NonFinite {
                path: source_name.clone().into(),
                location: format!(
                    "row {row} (image {}), feature index {}",
                    images[row],
                    pos % dim
                ),
                what: "feature value",
                value: features[pos].to_string(),
            });
        }
        let mut classes: Vec<String> = breeds.clone();
        classes.sort();
        classes.dedup();
        let labels = breeds
            .iter()
            .map(|b| {
                classes
                    .binary_search(b)
                    .expect("class list holds every label") as u32
            })
            .collect();
        Ok(Dataset {
            dim,
            features,
            images,
            labels,
            classes,
            extractor,
            source_name,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn len(&self) -> usize {
        self.images.len()
    }
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
    /// The whole row-major matrix.
    pub fn features(&self) -> &[f32] {
        &self.features
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }
    pub fn images(&self) -> &[String] {
        &self.images
    }
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
    pub fn class_name(&self, label: u32) -> &str {
        &self.classes[label as usize]
    }
    pub fn breed(&self, row: usize) -> &str {
        self.class_name(self.labels[row])
    }
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The index of a class, with the errors the CLI shows: an Oxford-IIIT breed that
    /// this dataset lacks has "no rows"; any other name is unknown and the error lists
    /// the known classes.
    pub fn class_index(&self, name: &str) -> Result<u32> {
        if let Ok(i) = self.classes.binary_search_by(|c| c.as_str().cmp(name)) {
            return Ok(i as u32);
        }
        if OXFORD_PET_BREEDS.contains(&name) {
            Err(PawsError::EmptyClass {
                name: name.to_string(),
                source_name: self.source_name.clone(),
            })
        } else {
            Err(PawsError::UnknownClass {
                name: name.to_string(),
                known: self.classes.clone(),
            })
        }
    }

    /// The rows of several datasets, in order, as one: `paws train-breeds` trains on the
    /// 600-photo sample and the few-photo set together. Every part must come from the
    /// same extractor (model id and dimension); the error names the two sources that
    /// differ.
    pub fn concat(parts: &[Dataset], source_name: impl Into<String>) -> Result<Dataset> {
        let Some(first) = parts.first() else {
            return Err(PawsError::invalid("no dataset to concatenate"));
        };
        for p in &parts[1..] {
            if p.extractor != first.extractor {
                return Err(PawsError::invalid(format!(
                    "{} has features of '{}' (dim {}), {} of '{}' (dim {}): they cannot be trained together",
                    first.source_name,
                    first.extractor.model,
                    first.extractor.dim,
                    p.source_name,
                    p.extractor.model,
                    p.extractor.dim
                )));
            }
        }
        let mut features = Vec::new();
        let (mut images, mut breeds) = (Vec::new(), Vec::new());
        for p in parts {
            features.extend_from_slice(&p.features);
            images.extend(p.images.iter().cloned());
            breeds.extend((0..p.len()).map(|r| p.breed(r).to_string()));
        }
        Dataset::new(
            first.dim,
            features,
            images,
            breeds,
            first.extractor.clone(),
            source_name,
        )
    }

    /// Row indices of every class, in row order.
    pub fn rows_by_class(&self) -> Vec<Vec<u32>> {
        let mut by = vec![Vec::new(); self.classes.len()];
        for (i, &l) in self.labels.iter().enumerate() {
            by[l as usize].push(i as u32);
        }
        by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breed_and_species_follow_the_oxford_naming_rule() {
        assert_eq!(breed_from_file_name("Bengal_12.jpg.json"), Some("Bengal"));
        assert_eq!(
            breed_from_file_name("american_pit_bull_terrier_3.jpg"),
            Some("american_pit_bull_terrier")
        );
        assert_eq!(breed_from_file_name("notes.json"), None);
        assert_eq!(breed_from_file_name("Bengal_x.jpg.json"), None);
        assert_eq!(species_of("Bengal"), "cat");
        assert_eq!(species_of("beagle"), "dog");
    }

    fn tiny() -> Dataset {
        Dataset::new(
            2,
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            vec!["b_1.jpg".into(), "A_1.jpg".into(), "b_2.jpg".into()],
            vec!["beagle".into(), "Abyssinian".into(), "beagle".into()],
            Extractor::unknown(2),
            "tiny",
        )
        .unwrap()
    }

    #[test]
    fn classes_are_sorted_and_rows_grouped() {
        let d = tiny();
        assert_eq!(d.classes(), ["Abyssinian", "beagle"]);
        assert_eq!(d.rows_by_class(), vec![vec![1], vec![0, 2]]);
        assert_eq!(d.row(2), &[5.0, 6.0]);
        assert_eq!(d.breed(1), "Abyssinian");
    }

    #[test]
    fn unknown_and_empty_classes_have_distinct_errors() {
        let d = tiny();
        let e = d.class_index("Bengal").unwrap_err().to_string();
        assert!(e.contains("'Bengal' has no rows in tiny"), "{e}");
        let e = d.class_index("unicorn").unwrap_err().to_string();
        assert!(
            e.contains("unknown class 'unicorn'") && e.contains("Abyssinian, beagle"),
            "{e}"
        );
    }

    #[test]
    fn non_finite_values_are_rejected_with_row_and_index() {
        let e = Dataset::new(
            2,
            vec![1.0, f32::NAN],
            vec!["x.jpg".into()],
            vec!["beagle".into()],
            Extractor::unknown(2),
            "f.parquet",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 0 (image x.jpg), feature index 1"), "{e}");
    }
}
