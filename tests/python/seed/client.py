# client.py - gRPC client for the product catalog service
import sys
import grpc
import _stubs  # noqa: F401  (generates the stubs the guide builds with grpc_tools.protoc)
import catalog_pb2
import catalog_pb2_grpc

def run_client(target):
    """Connect to the gRPC server and make some calls."""

    # Plaintext here: the target is a local server, not Cloud Run's TLS edge
    channel = grpc.insecure_channel(target)

    # Create the stub (client)
    stub = catalog_pb2_grpc.ProductCatalogStub(channel)

    # Get a single product
    print("--- GetProduct ---")
    product = stub.GetProduct(catalog_pb2.GetProductRequest(id="1"))
    print(f"Product: {product.name}, Price: ${product.price}")

    # List products in a category
    print("\n--- ListProducts (electronics) ---")
    response = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category="electronics", page_size=10)
    )
    for product in response.products:
        print(f"  {product.name}: ${product.price} (in stock: {product.in_stock})")
    print(f"  Total: {response.total_count}")

    # Search with server streaming
    print("\n--- SearchProducts (desk) ---")
    results = stub.SearchProducts(
        catalog_pb2.SearchRequest(query="desk", max_results=5)
    )
    for product in results:
        print(f"  {product.name}: {product.description}")

    channel.close()

if __name__ == "__main__":
    run_client(sys.argv[1])
