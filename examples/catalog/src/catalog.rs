//! The catalog's data and the semantics of its three methods (those of the guide's Python server).

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::gen::catalog::product_catalog_server::ProductCatalog;
use crate::gen::catalog::{
    GetProductRequest, ListProductsRequest, ListProductsResponse, Product, SearchRequest,
};

/// Page size and result count when the request leaves them at zero, as in the guide.
const DEFAULT_PAGE_SIZE: usize = 10;
const DEFAULT_MAX_RESULTS: usize = 10;

/// Environment variable that turns on the demonstration faults (see [`Catalog::from_env`]).
pub const FAULTS_ENV: &str = "CATALOG_DEMO_FAULTS";

/// The guide's five products, in the guide's order (listing and search keep it).
fn sample_products() -> Vec<Product> {
    let product =
        |id: &str, name: &str, description: &str, price, category: &str, in_stock| Product {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            price,
            category: category.into(),
            in_stock,
        };
    vec![
        product(
            "1",
            "Laptop Pro 16",
            "High-performance laptop",
            1299.99,
            "electronics",
            true,
        ),
        product(
            "2",
            "Wireless Mouse",
            "Ergonomic wireless mouse",
            49.99,
            "electronics",
            true,
        ),
        product(
            "3",
            "Standing Desk",
            "Adjustable standing desk",
            599.99,
            "furniture",
            false,
        ),
        product(
            "4",
            "Monitor 27 4K",
            "27-inch 4K display",
            449.99,
            "electronics",
            true,
        ),
        product(
            "5",
            "Desk Lamp",
            "LED desk lamp with dimmer",
            39.99,
            "furniture",
            true,
        ),
    ]
}

/// The product catalog service.
pub struct Catalog {
    products: Vec<Product>,
    /// Demonstration faults, off unless `CATALOG_DEMO_FAULTS=1`: they let anyone watch the runtime
    /// drain an in-flight call on SIGTERM and turn a panicking handler into INTERNAL.
    faults: bool,
}

impl Catalog {
    /// The guide's catalog. With `CATALOG_DEMO_FAULTS=1`, `GetProduct` also understands the ids
    /// `slow:<milliseconds>` (answers product 1 after that delay) and `panic` (the handler panics).
    pub fn from_env() -> Self {
        let faults = std::env::var(FAULTS_ENV).is_ok_and(|v| v == "1");
        Self {
            products: sample_products(),
            faults,
        }
    }

    fn find(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    async fn demo_fault(&self, id: &str) -> Option<Result<Product, Status>> {
        if !self.faults {
            return None;
        }
        if id == "panic" {
            panic!("demonstration panic requested through GetProduct(id=\"panic\")");
        }
        let millis = id.strip_prefix("slow:")?;
        let Ok(millis) = millis.parse::<u64>() else {
            return Some(Err(Status::invalid_argument(format!(
                "slow:<milliseconds> needs a whole number of milliseconds, got {millis:?}"
            ))));
        };
        tokio::time::sleep(Duration::from_millis(millis)).await;
        Some(
            self.find("1")
                .cloned()
                .ok_or_else(|| Status::not_found("Product 1 not found")),
        )
    }
}

/// Applies `ListProducts`' filter and pagination: `page_token` is the decimal offset of the page,
/// `next_page_token` is empty on the last page, `total_count` counts the filtered products.
pub fn list_products(
    products: &[Product],
    req: &ListProductsRequest,
) -> Result<ListProductsResponse, Status> {
    let filtered: Vec<&Product> = products
        .iter()
        .filter(|p| req.category.is_empty() || p.category == req.category)
        .collect();
    let page_size = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 => {
            return Err(Status::invalid_argument(format!(
                "page_size must not be negative, got {n}"
            )));
        }
        n => n as usize,
    };
    let start = if req.page_token.is_empty() {
        0
    } else {
        req.page_token.parse::<usize>().map_err(|_| {
            Status::invalid_argument(format!(
                "page_token {:?} is not one this server issued (expected a decimal offset)",
                req.page_token
            ))
        })?
    };
    let end = start.saturating_add(page_size);
    let page = filtered
        .get(start.min(filtered.len())..end.min(filtered.len()))
        .unwrap_or_default();
    Ok(ListProductsResponse {
        products: page.iter().map(|p| (*p).clone()).collect(),
        next_page_token: if end < filtered.len() {
            end.to_string()
        } else {
            String::new()
        },
        total_count: i32::try_from(filtered.len()).unwrap_or(i32::MAX),
    })
}

/// `SearchProducts`' matches: case-insensitive substring of the name or the description, at most
/// `max_results` (10 when zero) in catalog order.
pub fn search_products(products: &[Product], req: &SearchRequest) -> Result<Vec<Product>, Status> {
    let max_results = match req.max_results {
        0 => DEFAULT_MAX_RESULTS,
        n if n < 0 => {
            return Err(Status::invalid_argument(format!(
                "max_results must not be negative, got {n}"
            )));
        }
        n => n as usize,
    };
    let query = req.query.to_lowercase();
    Ok(products
        .iter()
        .filter(|p| {
            p.name.to_lowercase().contains(&query) || p.description.to_lowercase().contains(&query)
        })
        .take(max_results)
        .cloned()
        .collect())
}

#[tonic::async_trait]
impl ProductCatalog for Catalog {
    async fn get_product(
        &self,
        request: Request<GetProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let id = &request.get_ref().id;
        if let Some(answer) = self.demo_fault(id).await {
            return answer.map(Response::new);
        }
        self.find(id)
            .cloned()
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("Product {id} not found")))
    }

    async fn list_products(
        &self,
        request: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsResponse>, Status> {
        list_products(&self.products, request.get_ref()).map(Response::new)
    }

    type SearchProductsStream =
        Pin<Box<dyn Stream<Item = Result<Product, Status>> + Send + 'static>>;

    async fn search_products(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<Self::SearchProductsStream>, Status> {
        let matches = search_products(&self.products, request.get_ref())?;
        Ok(Response::new(Box::pin(tokio_stream::iter(
            matches.into_iter().map(Ok),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(products: &[Product]) -> Vec<&str> {
        products.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn list_filters_by_category_and_counts_after_filtering() {
        let req = ListProductsRequest {
            category: "furniture".into(),
            ..Default::default()
        };
        let page = list_products(&sample_products(), &req).unwrap();
        assert_eq!(names(&page.products), ["Standing Desk", "Desk Lamp"]);
        assert_eq!(page.total_count, 2);
        assert_eq!(page.next_page_token, "");
    }

    #[test]
    fn list_pages_with_decimal_offsets_until_empty_token() {
        let products = sample_products();
        let mut req = ListProductsRequest {
            page_size: 2,
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut tokens = Vec::new();
        loop {
            let page = list_products(&products, &req).unwrap();
            assert_eq!(page.total_count, 5);
            seen.extend(page.products.iter().map(|p| p.id.clone()));
            tokens.push(page.next_page_token.clone());
            if page.next_page_token.is_empty() {
                break;
            }
            req.page_token = page.next_page_token;
        }
        assert_eq!(seen, ["1", "2", "3", "4", "5"]);
        assert_eq!(tokens, ["2", "4", ""]);
    }

    #[test]
    fn list_defaults_page_size_to_ten_and_rejects_bad_input() {
        let page = list_products(&sample_products(), &ListProductsRequest::default()).unwrap();
        assert_eq!(page.products.len(), 5);
        let bad_token = ListProductsRequest {
            page_token: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            list_products(&sample_products(), &bad_token)
                .unwrap_err()
                .code(),
            tonic::Code::InvalidArgument
        );
        let negative = ListProductsRequest {
            page_size: -1,
            ..Default::default()
        };
        assert_eq!(
            list_products(&sample_products(), &negative)
                .unwrap_err()
                .code(),
            tonic::Code::InvalidArgument
        );
        let past_end = ListProductsRequest {
            page_token: "99".into(),
            ..Default::default()
        };
        let page = list_products(&sample_products(), &past_end).unwrap();
        assert!(page.products.is_empty() && page.next_page_token.is_empty());
    }

    #[test]
    fn search_is_case_insensitive_over_name_and_description() {
        let req = SearchRequest {
            query: "DESK".into(),
            max_results: 5,
        };
        assert_eq!(
            names(&search_products(&sample_products(), &req).unwrap()),
            ["Standing Desk", "Desk Lamp"]
        );
        let req = SearchRequest {
            query: "display".into(),
            max_results: 0,
        };
        assert_eq!(
            names(&search_products(&sample_products(), &req).unwrap()),
            ["Monitor 27 4K"]
        );
        let req = SearchRequest {
            query: "".into(),
            max_results: 3,
        };
        assert_eq!(search_products(&sample_products(), &req).unwrap().len(), 3);
    }
}
