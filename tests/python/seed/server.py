# server.py - gRPC server implementation for the product catalog
import os
import grpc
from concurrent import futures
import _stubs  # noqa: F401  (generates the stubs the guide builds with grpc_tools.protoc)
import catalog_pb2
import catalog_pb2_grpc
from grpc_health.v1 import health
from grpc_health.v1 import health_pb2
from grpc_health.v1 import health_pb2_grpc

# Sample product data (in production, this would come from a database)
PRODUCTS = {
    "1": {"id": "1", "name": "Laptop Pro 16", "description": "High-performance laptop", "price": 1299.99, "category": "electronics", "in_stock": True},
    "2": {"id": "2", "name": "Wireless Mouse", "description": "Ergonomic wireless mouse", "price": 49.99, "category": "electronics", "in_stock": True},
    "3": {"id": "3", "name": "Standing Desk", "description": "Adjustable standing desk", "price": 599.99, "category": "furniture", "in_stock": False},
    "4": {"id": "4", "name": "Monitor 27 4K", "description": "27-inch 4K display", "price": 449.99, "category": "electronics", "in_stock": True},
    "5": {"id": "5", "name": "Desk Lamp", "description": "LED desk lamp with dimmer", "price": 39.99, "category": "furniture", "in_stock": True},
}

class ProductCatalogServicer(catalog_pb2_grpc.ProductCatalogServicer):
    """Implementation of the ProductCatalog gRPC service."""

    def GetProduct(self, request, context):
        """Return a single product by ID."""
        product_data = PRODUCTS.get(request.id)
        if not product_data:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Product {request.id} not found")
        return catalog_pb2.Product(**product_data)

    def ListProducts(self, request, context):
        """Return a paginated list of products, optionally filtered by category."""
        products = list(PRODUCTS.values())

        # Filter by category if specified
        if request.category:
            products = [p for p in products if p["category"] == request.category]

        # Simple pagination
        page_size = request.page_size or 10
        start = 0
        if request.page_token:
            start = int(request.page_token)

        page = products[start:start + page_size]
        next_token = str(start + page_size) if start + page_size < len(products) else ""

        return catalog_pb2.ListProductsResponse(
            products=[catalog_pb2.Product(**p) for p in page],
            next_page_token=next_token,
            total_count=len(products)
        )

    def SearchProducts(self, request, context):
        """Stream products matching the search query."""
        query = request.query.lower()
        count = 0
        max_results = request.max_results or 10

        for product_data in PRODUCTS.values():
            if count >= max_results:
                break
            if query in product_data["name"].lower() or query in product_data["description"].lower():
                yield catalog_pb2.Product(**product_data)
                count += 1

def serve():
    """Start the gRPC server with health checking."""
    port = os.environ.get("PORT", "8080")

    # Create the gRPC server with a thread pool
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))

    # Register the product catalog service
    catalog_pb2_grpc.add_ProductCatalogServicer_to_server(
        ProductCatalogServicer(), server
    )

    # Register the health checking service (required for Cloud Run)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)

    # Set the service as healthy
    health_servicer.set("catalog.ProductCatalog", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    # Listen on loopback only in tests (the guide listens on [::] for Cloud Run)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"gRPC server started on port {bound}", flush=True)
    server.wait_for_termination()

if __name__ == "__main__":
    serve()
