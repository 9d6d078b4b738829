//! A room's pictures and its delivery file: the rules (who may change them, how many, how
//! large), where their bytes are kept, and who may read them. The room row lists them; the
//! bytes are in the media store, written before the row names them and deleted after it stops
//! naming them, so a row never points at a missing file (a crash in between leaves at most an
//! unnamed file behind).

use axum::body::Bytes;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use shifting_shared::api::{DeliveryFileResponse, RoomImage, RoomResponse};
use shifting_shared::{FieldCode, FieldError, FieldErrors, RoomCode};
use url::Url;
use uuid::Uuid;

use crate::entities::rooms;
use crate::error::{ApiError, Result};
use crate::http::extract::PurchaseCaller;
use crate::media::images::{self, Refusal, StoredFormat};
use crate::media::{ByteStream, MediaStore};
use crate::services::rooms::{find_with_seller, link, own_view};
use crate::services::transactions::find_for;
use crate::state::AppState;

/// The most pictures a room has.
pub const MAX_IMAGES: usize = 4;
/// The longest delivery file name, in characters.
const MAX_FILE_NAME: usize = 200;
/// How often a change is retried when another change to the room's list won the race.
const ATTEMPTS: usize = 8;

/// One picture as the room row lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredImage {
    /// Its id (also in its store key).
    pub id: Uuid,
    /// The format both its sizes were written in.
    pub format: StoredFormat,
    /// Width of the display size.
    pub width: u32,
    /// Height of the display size.
    pub height: u32,
}

/// The delivery file as the room row names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Its id (its store key).
    pub id: Uuid,
    /// Its name for the buyer's download.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The media type it was uploaded with.
    pub content_type: String,
}

impl StoredFile {
    /// The API view.
    #[must_use]
    pub fn response(&self) -> DeliveryFileResponse {
        DeliveryFileResponse {
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
        }
    }
}

fn image_key(room: Uuid, image: &StoredImage, thumbnail: bool) -> String {
    let suffix = if thumbnail { "-thumb" } else { "" };
    format!(
        "rooms/{room}/images/{}{suffix}.{}",
        image.id,
        image.format.extension()
    )
}

fn file_key(room: Uuid, file: &StoredFile) -> String {
    format!("rooms/{room}/delivery/{}", file.id)
}

/// The pictures a room row lists.
///
/// # Errors
/// Internal, when the column does not hold what this module writes.
pub fn stored_images(room: &rooms::Model) -> Result<Vec<StoredImage>> {
    serde_json::from_str(&room.images)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("rooms.images of {}: {err}", room.id)))
}

/// The delivery file a room row names.
///
/// # Errors
/// Internal, when the column does not hold what this module writes.
pub fn stored_file(raw: Option<&str>) -> Result<Option<StoredFile>> {
    raw.map(serde_json::from_str)
        .transpose()
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("rooms.delivery_file: {err}")))
}

/// The API view of a room's pictures.
///
/// # Errors
/// Internal, as [`stored_images`].
pub fn image_views(room: &rooms::Model, public_url: &Url) -> Result<Vec<RoomImage>> {
    Ok(stored_images(room)?
        .into_iter()
        .map(|image| {
            let url = link(
                public_url,
                &format!("api/rooms/{}/images/{}", room.code, image.id),
            );
            RoomImage {
                thumbnail_url: format!("{url}/thumbnail"),
                url,
                id: image.id,
                width: image.width,
                height: image.height,
            }
        })
        .collect())
}

/// The room, checked to be `user_id`'s (before an upload's body is read).
///
/// # Errors
/// 404 for an unknown room, 403 for anyone but its seller.
pub async fn own_room(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    code: &RoomCode,
) -> Result<rooms::Model> {
    let (room, _) = find_with_seller(db, code).await?;
    if room.seller_id != user_id {
        return Err(ApiError::Forbidden("Only the room's seller can change it."));
    }
    Ok(room)
}

fn too_many_images() -> ApiError {
    ApiError::Conflict {
        message: "This room already has its four pictures: remove one first.",
        fields: FieldErrors::one(
            "image",
            FieldError::new(
                FieldCode::TooManyImages,
                "would be a fifth picture; the most is four",
            ),
        ),
    }
}

/// Adds a picture to the end of a room's list: checked, re-encoded in two sizes and stored,
/// then listed on the room with a conditional update (of two uploads racing for the last free
/// place, one gets it; the other's files are deleted).
///
/// # Errors
/// 403 for anyone but the seller, 404, 409 with four pictures already, 422 for what is not a
/// picture we take (`fields.image`).
pub async fn add_image(
    state: &AppState,
    user_id: Uuid,
    code: &RoomCode,
    upload: Bytes,
) -> Result<RoomResponse> {
    let db = &state.db;
    let room = own_room(db, user_id, code).await?;
    if stored_images(&room)?.len() >= MAX_IMAGES {
        return Err(too_many_images());
    }
    let processed = tokio::task::spawn_blocking(move || images::process(&upload))
        .await
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("the picture task failed: {err}")))?
        .map_err(|refusal| {
            let code = match refusal {
                Refusal::UnsupportedType => FieldCode::ImageType,
                Refusal::Unreadable => FieldCode::ImageUnreadable,
                Refusal::TooManyPixels { .. } => FieldCode::ImageTooManyPixels,
            };
            ApiError::field("image", FieldError::new(code, refusal.to_string()))
        })?;
    let image = StoredImage {
        id: Uuid::new_v4(),
        format: processed.format,
        width: processed.display.width,
        height: processed.display.height,
    };
    let keys = [
        image_key(room.id, &image, false),
        image_key(room.id, &image, true),
    ];
    let store = &state.media;
    let stored = async {
        store.put(&keys[0], processed.display.bytes.into()).await?;
        store.put(&keys[1], processed.thumbnail.bytes.into()).await
    }
    .await;
    if let Err(err) = stored {
        forget_files(store, &keys);
        return Err(ApiError::Internal(err.context("storing a room picture")));
    }
    let listed = change_images(db, room.id, |list| {
        if list.len() >= MAX_IMAGES {
            return Err(too_many_images());
        }
        list.push(image.clone());
        Ok(())
    })
    .await;
    if let Err(err) = listed {
        forget_files(store, &keys);
        return Err(err);
    }
    own_view(db, code, &state.public_url).await
}

/// Removes a picture from a room's list, then its files.
///
/// # Errors
/// 403 for anyone but the seller, 404 for an unknown room or picture.
pub async fn remove_image(
    state: &AppState,
    user_id: Uuid,
    code: &RoomCode,
    image_id: Uuid,
) -> Result<RoomResponse> {
    let db = &state.db;
    let room = own_room(db, user_id, code).await?;
    let mut removed = None;
    change_images(db, room.id, |list| {
        let at = list
            .iter()
            .position(|image| image.id == image_id)
            .ok_or(ApiError::NotFound("This room has no such picture."))?;
        removed = Some(list.remove(at));
        Ok(())
    })
    .await?;
    if let Some(image) = removed {
        forget_files(
            &state.media,
            &[
                image_key(room.id, &image, false),
                image_key(room.id, &image, true),
            ],
        );
    }
    own_view(db, code, &state.public_url).await
}

/// Applies `change` to the room's list and writes it back if nobody changed it meanwhile
/// (compare-and-set on the column), retrying on a lost race.
async fn change_images(
    db: &impl ConnectionTrait,
    room_id: Uuid,
    mut change: impl FnMut(&mut Vec<StoredImage>) -> Result<()>,
) -> Result<()> {
    for _ in 0..ATTEMPTS {
        let room = rooms::Entity::find_by_id(room_id)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("No room has this code."))?;
        let mut list = stored_images(&room)?;
        change(&mut list)?;
        let written = serde_json::to_string(&list)
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("encoding pictures: {err}")))?;
        let updated = rooms::Entity::update_many()
            .col_expr(rooms::Column::Images, Expr::value(written))
            .filter(rooms::Column::Id.eq(room_id))
            .filter(rooms::Column::Images.eq(room.images.clone()))
            .exec(db)
            .await?;
        if updated.rows_affected == 1 {
            return Ok(());
        }
    }
    Err(ApiError::conflict(
        "The room's pictures kept changing meanwhile; reload the room and try again.",
    ))
}

fn forget_files(store: &MediaStore, keys: &[String]) {
    for key in keys {
        store.delete_in_background(key.clone());
    }
}

/// One of a room's pictures, for anyone who can see the room: the room's id and the picture.
///
/// # Errors
/// 404 for an unknown room or picture.
pub async fn find_image(
    db: &impl ConnectionTrait,
    code: &RoomCode,
    image_id: Uuid,
) -> Result<(Uuid, StoredImage)> {
    let (room, _) = crate::services::rooms::find_public(db, code).await?;
    let image = stored_images(&room)?
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or(ApiError::NotFound("This room has no such picture."))?;
    Ok((room.id, image))
}

/// A picture's bytes (or its thumbnail's): size and stream.
///
/// # Errors
/// 404 when it was removed since [`find_image`] found it.
pub async fn image_file(
    state: &AppState,
    room_id: Uuid,
    image: &StoredImage,
    thumbnail: bool,
) -> Result<(u64, ByteStream)> {
    // Removed between the two reads: gone, as the room now says.
    state
        .media
        .get(&image_key(room_id, image, thumbnail))
        .await?
        .ok_or(ApiError::NotFound("This room has no such picture."))
}

/// The delivery file's name, cleaned: no folders, no control characters, at most 200
/// characters.
///
/// # Errors
/// 422 for an empty or unusable name.
pub fn file_name(raw: &str) -> Result<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(ApiError::field(
            "name",
            FieldError::new(
                FieldCode::Required,
                "is required: the file's name with its extension",
            ),
        ));
    }
    if base
        .chars()
        .any(|c| c.is_control() || is_format_character(c))
    {
        return Err(ApiError::field(
            "name",
            FieldError::new(
                FieldCode::ControlCharacters,
                "must not contain control characters",
            ),
        ));
    }
    if base.chars().count() > MAX_FILE_NAME {
        return Err(ApiError::field(
            "name",
            FieldError::new(FieldCode::TooLong, "must be at most 200 characters long"),
        ));
    }
    Ok(base.to_owned())
}

/// Invisible characters that change how a name displays (direction overrides and isolates,
/// zero-width ones, the byte-order mark): `report\u{202E}fdp.exe` would show as
/// `reportexe.pdf`.
fn is_format_character(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Attaches (or replaces) the file a room's buyers download. The new file is stored first,
/// then named on the room; the one it replaces is deleted after.
///
/// # Errors
/// 403 for anyone but the seller, 404, 422 for the name, 409 when the room changed meanwhile.
pub async fn set_delivery_file(
    state: &AppState,
    user_id: Uuid,
    code: &RoomCode,
    name: &str,
    content_type: &str,
    bytes: Bytes,
) -> Result<DeliveryFileResponse> {
    let db = &state.db;
    let name = file_name(name)?;
    let room = own_room(db, user_id, code).await?;
    let file = StoredFile {
        id: Uuid::new_v4(),
        name,
        size: bytes.len() as u64,
        content_type: content_type.to_owned(),
    };
    let key = file_key(room.id, &file);
    state
        .media
        .put(&key, bytes)
        .await
        .map_err(|err| ApiError::Internal(err.context("storing a delivery file")))?;
    let written = serde_json::to_string(&file)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("encoding a file: {err}")))?;
    let replaced = replace_file(db, &room, Some(written)).await;
    match replaced {
        Ok(old) => {
            if let Some(old) = old {
                state.media.delete_in_background(file_key(room.id, &old));
            }
            Ok(file.response())
        }
        Err(err) => {
            state.media.delete_in_background(key);
            Err(err)
        }
    }
}

/// Removes the file a room delivers.
///
/// # Errors
/// 403 for anyone but the seller, 404 (also when there is no file), 409 when the room changed
/// meanwhile.
pub async fn remove_delivery_file(state: &AppState, user_id: Uuid, code: &RoomCode) -> Result<()> {
    let db = &state.db;
    let room = own_room(db, user_id, code).await?;
    if room.delivery_file.is_none() {
        return Err(ApiError::NotFound("This room delivers no file."));
    }
    if let Some(old) = replace_file(db, &room, None).await? {
        state.media.delete_in_background(file_key(room.id, &old));
    }
    Ok(())
}

/// Names `next` on the room if its file is still the one read; returns the one it replaced.
async fn replace_file(
    db: &impl ConnectionTrait,
    room: &rooms::Model,
    next: Option<String>,
) -> Result<Option<StoredFile>> {
    let mut update = rooms::Entity::update_many()
        .col_expr(rooms::Column::DeliveryFile, Expr::value(next))
        .filter(rooms::Column::Id.eq(room.id));
    update = match &room.delivery_file {
        Some(current) => update.filter(rooms::Column::DeliveryFile.eq(current.clone())),
        None => update.filter(rooms::Column::DeliveryFile.is_null()),
    };
    if update.exec(db).await?.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The room's file changed meanwhile; reload the room and try again.",
        ));
    }
    stored_file(room.delivery_file.as_deref())
}

/// The delivery file of a transaction's room, for its buyer (or guest buyer) once the payment
/// completed, read at the moment of the request: its name, type, size and stream.
///
/// # Errors
/// 404 for anyone else and when the room delivers no file, 409 before completion.
pub async fn delivery_download(
    state: &AppState,
    caller: &PurchaseCaller,
    transaction_id: Uuid,
) -> Result<(StoredFile, u64, ByteStream)> {
    let db = &state.db;
    let (row, viewer) = find_for(db, caller, transaction_id).await?;
    if !viewer.is_buyer(&row) {
        return Err(ApiError::NotFound("No such transaction."));
    }
    if !row.transaction_status()?.is_paid() {
        return Err(ApiError::conflict(
            "The file is the buyer's once the payment has completed.",
        ));
    }
    let room = rooms::Entity::find_by_id(row.room_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("transaction {transaction_id} has no room"))
        })?;
    let file = stored_file(room.delivery_file.as_deref())?
        .ok_or(ApiError::NotFound("This room delivers no file."))?;
    // Replaced or removed between the two reads: the next request finds the current one.
    let (size, stream) =
        state
            .media
            .get(&file_key(room.id, &file))
            .await?
            .ok_or(ApiError::NotFound(
                "This room's file has just changed; download it again.",
            ))?;
    Ok((file, size, stream))
}
