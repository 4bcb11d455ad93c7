pytest_plugins = ["tests.support.mysql"]
