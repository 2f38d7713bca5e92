<?php

declare(strict_types=1);

// PSR-4 autoloading of the package (Orderflow\ → src/) and its tests (Orderflow\Tests\ →
// tests/) without Composer's vendor/autoload.php: PHPUnit runs from Debian's phpunit
// package with nothing installed, and the vitest tests load the client with plain php.
spl_autoload_register(static function (string $class): void {
    $roots = ['Orderflow\\Tests\\' => __DIR__ . '/', 'Orderflow\\' => dirname(__DIR__) . '/src/'];
    foreach ($roots as $prefix => $directory) {
        if (str_starts_with($class, $prefix)) {
            $file = $directory . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
