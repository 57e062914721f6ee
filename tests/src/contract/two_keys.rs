//! A model of the tests' own with two unique keys, declared as a service would declare it: a
//! duplicate on either key is a conflict naming that key, found without parsing any server
//! message, on create and on update.

use domain::{Email, Entity, Model};
use ports::{Conflict, Repository, RepositoryError};
use serde::{Deserialize, Serialize};

/// A site badge: its code and its holder's e-mail address are each unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
pub struct Badge {
    #[model(unique)]
    code: String,
    #[model(unique)]
    email: Email,
    holder: String,
}

/// A second record that shares one unique value with the first is refused naming that key;
/// so is an update of another record to a taken value. Nothing is written.
pub async fn a_duplicate_on_either_unique_key_names_that_key(badges: &dyn Repository<Badge>) {
    let first = badges
        .create(example(1))
        .await
        .expect("create")
        .into_entity();
    let same_code = Badge {
        code: first.code.clone(),
        ..example(2)
    };
    let same_email = Badge {
        email: first.email.clone(),
        ..example(3)
    };
    assert_eq!(
        badges.create(same_code).await.err(),
        Some(duplicate("code"))
    );
    assert_eq!(
        badges.create(same_email).await.err(),
        Some(duplicate("email"))
    );

    let other = badges.create(example(4)).await.expect("create");
    let taken = BadgePatch {
        email: Some(first.email.clone()),
        ..BadgePatch::default()
    };
    let moved = other.clone().apply(taken).expect("a valid change");
    assert_eq!(badges.update(moved).await.err(), Some(duplicate("email")));
    assert_eq!(badges.get(other.id()).await.expect("get"), other);
    assert_eq!(badges.count().await.expect("count"), 2);
}

fn example(n: u32) -> Badge {
    Badge::example(n).expect("a valid example")
}

fn duplicate(key: &'static str) -> RepositoryError {
    Conflict::Duplicate {
        model: Badge::NAME,
        key,
    }
    .into()
}
