//! Training balances, in memory (seed 001 keeps them in Firestore).

use std::collections::HashMap;
use std::sync::Mutex;

use tonic::{Request, Response, Status};
use workouts_api::users::users_service_server::UsersService;
use workouts_api::users::{
    EmptyResponse, GetTrainingBalanceRequest, GetTrainingBalanceResponse,
    UpdateTrainingBalanceRequest,
};

/// The variable holding every user's starting balance.
pub const INITIAL_BALANCE: &str = "USERS_INITIAL_BALANCE";

/// Balances by user id; users not seen yet have the initial balance.
#[derive(Debug)]
pub struct Users {
    initial: i64,
    balances: Mutex<HashMap<String, i64>>,
}

impl Users {
    /// Reads `USERS_INITIAL_BALANCE` (3 unless set).
    pub fn from_env() -> Result<Self, cloudrun_runtime::Error> {
        let initial = match std::env::var(INITIAL_BALANCE) {
            Err(_) => 3,
            Ok(value) => value
                .trim()
                .parse()
                .ok()
                .filter(|n: &i64| *n >= 0)
                .ok_or_else(|| cloudrun_runtime::Error::InvalidEnv {
                    variable: INITIAL_BALANCE,
                    value: value.clone(),
                    expected: "a whole number of trainings, 0 or more".to_owned(),
                })?,
        };
        Ok(Users::with_initial_balance(initial))
    }

    fn with_initial_balance(initial: i64) -> Self {
        Users {
            initial,
            balances: Mutex::new(HashMap::new()),
        }
    }
}

fn user_id(id: &str) -> Result<&str, Status> {
    if id.trim().is_empty() {
        Err(Status::invalid_argument("user_id is empty"))
    } else {
        Ok(id)
    }
}

#[tonic::async_trait]
impl UsersService for Users {
    async fn get_training_balance(
        &self,
        request: Request<GetTrainingBalanceRequest>,
    ) -> Result<Response<GetTrainingBalanceResponse>, Status> {
        let id = user_id(&request.get_ref().user_id)?;
        let balances = self.balances.lock().unwrap_or_else(|e| e.into_inner());
        let amount = balances.get(id).copied().unwrap_or(self.initial);
        Ok(Response::new(GetTrainingBalanceResponse { amount }))
    }

    async fn update_training_balance(
        &self,
        request: Request<UpdateTrainingBalanceRequest>,
    ) -> Result<Response<EmptyResponse>, Status> {
        let update = request.into_inner();
        let id = user_id(&update.user_id)?.to_owned();
        let mut balances = self.balances.lock().unwrap_or_else(|e| e.into_inner());
        let balance = balances.entry(id.clone()).or_insert(self.initial);
        let updated = balance
            .checked_add(update.amount_change)
            .ok_or_else(|| Status::invalid_argument("amount_change is out of range"))?;
        if updated < 0 {
            return Err(Status::failed_precondition(format!(
                "{id} has {balance} trainings left, cannot take {}",
                -update.amount_change
            )));
        }
        *balance = updated;
        Ok(Response::new(EmptyResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn balances_start_at_the_initial_amount_and_never_go_negative() {
        let users = Users::with_initial_balance(1);
        let get = || {
            Request::new(GetTrainingBalanceRequest {
                user_id: "u".into(),
            })
        };
        let take = || {
            Request::new(UpdateTrainingBalanceRequest {
                user_id: "u".into(),
                amount_change: -1,
            })
        };
        assert_eq!(
            users
                .get_training_balance(get())
                .await
                .unwrap()
                .get_ref()
                .amount,
            1
        );
        users.update_training_balance(take()).await.unwrap();
        assert_eq!(
            users
                .get_training_balance(get())
                .await
                .unwrap()
                .get_ref()
                .amount,
            0
        );
        let status = users.update_training_balance(take()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(status.message(), "u has 0 trainings left, cannot take 1");
        assert_eq!(
            users
                .get_training_balance(get())
                .await
                .unwrap()
                .get_ref()
                .amount,
            0
        );
    }
}
