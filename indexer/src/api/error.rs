//! The API's errors: one enum, one JSON body shape (`{"error": …, "parameter": …, "allowed": …}`), a status
//! per kind.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query or path parameter is malformed or out of range (400).
    #[error("parameter `{parameter}`: {detail}")]
    BadParameter {
        /// The parameter's name.
        parameter: String,
        /// What was wrong.
        detail: String,
        /// What is accepted (values, or a description of the format).
        allowed: Vec<String>,
    },
    /// Nothing with this id is indexed (404).
    #[error("{0}")]
    NotFound(String),
    /// A database query ran past the query timeout (503).
    #[error("the database did not answer within {0} ms: try again, or narrow the query (filters, a smaller limit)")]
    Timeout(u128),
    /// The whole request ran past the request timeout (408).
    #[error("the request did not finish within {0} ms: try again, or narrow the query (filters, a smaller limit)")]
    RequestTimeout(u128),
    /// The client sent more requests than its rate allows (429).
    #[error("rate limit: at most {0} requests per second per client address; retry after a second")]
    RateLimited(u32),
    /// The database failed (500).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 for `parameter`.
    pub fn bad(parameter: &str, detail: impl Into<String>, allowed: &[&str]) -> Self {
        Self::BadParameter {
            parameter: parameter.to_string(),
            detail: detail.into(),
            allowed: allowed.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadParameter { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
    /// The offending parameter (400 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The values or format it accepts (400 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (parameter, allowed) = match &self {
            Self::BadParameter { parameter, allowed, .. } => (Some(parameter.clone()), Some(allowed.clone())),
            _ => (None, None),
        };
        if matches!(self, Self::Internal(_)) {
            tracing::error!(error = %self, "API request failed");
        }
        let body = ErrorBody { error: self.to_string(), parameter, allowed };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// Shorthand.
pub type ApiResult<T> = Result<T, ApiError>;
