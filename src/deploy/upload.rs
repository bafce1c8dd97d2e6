//! Uploads the zips the artifact bucket does not have yet. A zip's name carries
//! the hash of its handler's sources, so one already in the bucket under that
//! key is the same code and is left alone.

use super::assets::Asset;
use super::aws::{Aws, AwsError, args};
use std::path::Path;

/// `aws s3api head-bucket`: does the bucket exist, and may we use it?
pub fn head_bucket_args(bucket: &str) -> Vec<String> {
    args(["s3api", "head-bucket", "--bucket", bucket])
}

/// `aws s3api head-object`: is the key there?
pub fn head_object_args(bucket: &str, key: &str) -> Vec<String> {
    args(["s3api", "head-object", "--bucket", bucket, "--key", key])
}

/// `aws s3 cp`: upload one zip.
pub fn copy_args(path: &Path, bucket: &str, key: &str) -> Vec<String> {
    vec![
        "s3".into(),
        "cp".into(),
        path.to_string_lossy().into_owned(),
        format!("s3://{bucket}/{key}"),
        "--only-show-errors".into(),
    ]
}

/// What happened to one zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The bucket already had it.
    Present,
    /// It was uploaded.
    Uploaded,
}

/// Why the upload step failed.
#[derive(Debug)]
pub enum UploadError {
    /// The bucket is missing or not ours.
    Bucket {
        /// The bucket.
        bucket: String,
        /// What the CLI said.
        source: AwsError,
    },
    /// Looking at or uploading one zip failed.
    Object {
        /// The zip.
        asset: Asset,
        /// What the CLI said.
        source: AwsError,
    },
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Bucket { bucket, source } => write!(
                f,
                "bucket {bucket} cannot be used: it does not exist, is in another account, or \
                 the credentials may not read it (create it with `aws s3 mb s3://{bucket}`)\n{source}"
            ),
            UploadError::Object { asset, source } => write!(
                f,
                "cannot upload {} (handler `{}`)\n{source}",
                asset.key, asset.handler
            ),
        }
    }
}

impl std::error::Error for UploadError {}

/// Looks at one asset and uploads it when the bucket lacks it.
fn upload_one(aws: &dyn Aws, bucket: &str, asset: &Asset) -> Result<Outcome, Box<UploadError>> {
    let failed = |source| {
        Box::new(UploadError::Object {
            asset: asset.clone(),
            source,
        })
    };
    match aws.run(&head_object_args(bucket, &asset.key)) {
        Ok(_) => Ok(Outcome::Present),
        Err(e) if e.is(&["404", "NoSuchKey"]) => {
            aws.run(&copy_args(&asset.path, bucket, &asset.key))
                .map_err(failed)?;
            Ok(Outcome::Uploaded)
        }
        Err(e) => Err(failed(e)),
    }
}

/// Uploads every asset the bucket lacks, all at once (each `aws` call is a
/// process of its own); `progress` hears about each one, in the given order.
pub fn upload_missing(
    aws: &dyn Aws,
    bucket: &str,
    assets: &[Asset],
    progress: &mut dyn FnMut(&Asset, Outcome),
) -> Result<Vec<Outcome>, Box<UploadError>> {
    aws.run(&head_bucket_args(bucket)).map_err(|source| {
        Box::new(UploadError::Bucket {
            bucket: bucket.to_string(),
            source,
        })
    })?;
    let results: Vec<Result<Outcome, Box<UploadError>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = assets
            .iter()
            .map(|asset| scope.spawn(move || upload_one(aws, bucket, asset)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an upload thread panicked"))
            .collect()
    });
    let mut outcomes = Vec::new();
    for (asset, result) in assets.iter().zip(results) {
        let outcome = result?;
        progress(asset, outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
