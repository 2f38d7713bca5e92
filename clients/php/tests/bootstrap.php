<?php

declare(strict_types=1);

// The package's PSR-4 autoloading without Composer (the tests run with plain php).
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Orderflow\\')) {
        require dirname(__DIR__) . '/src/' . str_replace('\\', '/', substr($class, strlen('Orderflow\\'))) . '.php';
    }
});
