//! Topic and consumer-group name rules shared by every backend.

/// Longest topic or group name accepted (Kafka's own limit is 249).
const MAX_NAME_LEN: usize = 200;

/// Letters, digits, `.`, `_`, `-`; at most 200 characters; not `.` or `..` (the
/// embedded log uses the name as a path component). Returns the name as the error
/// so callers pick the variant.
pub(crate) fn validate_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if name.is_empty() || name.len() > MAX_NAME_LEN || !ok_chars || name == "." || name == ".." {
        return Err(name.to_owned());
    }
    Ok(())
}

/// Checks a topic spec every backend must refuse: a bad name or no partitions.
pub(crate) fn validate_spec(spec: &crate::TopicSpec) -> Result<(), crate::LogError> {
    validate_name(&spec.name).map_err(crate::LogError::InvalidTopicName)?;
    if spec.partitions == 0 {
        return Err(crate::LogError::InvalidPartitionCount {
            topic: spec.name.clone(),
            partitions: 0,
        });
    }
    Ok(())
}
