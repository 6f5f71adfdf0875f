//! Media (amili-api.md §4.5): `POST /media--upload/{reference_id}` stores a file and attaches
//! it to a document; `GET /media/{key}` serves it to whoever holds the signed URL.

pub mod download;
pub mod upload;
