"""The API's routes, one module per area; thin: check the caller, call the logic, shape the answer."""
