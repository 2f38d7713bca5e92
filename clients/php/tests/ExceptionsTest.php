<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Exception\OrderflowException;
use PHPUnit\Framework\TestCase;

/** The client throws only its own exceptions, all under one base class. */
final class ExceptionsTest extends TestCase
{
    public function testEveryExceptionExtendsOrderflowException(): void
    {
        $names = array_map(static fn (string $file): string => basename($file, '.php'), glob(dirname(__DIR__) . '/src/Exception/*.php') ?: []);
        self::assertContains('ConfigurationException', $names);
        foreach ($names as $name) {
            $class = "Orderflow\\Exception\\{$name}";
            self::assertTrue(is_a($class, OrderflowException::class, true), "{$class} extends OrderflowException");
        }
    }

    public function testTheSourceThrowsNothingElse(): void
    {
        $exceptions = array_map(static fn (string $file): string => basename($file, '.php'), glob(dirname(__DIR__) . '/src/Exception/*.php') ?: []);
        $files = array_merge(glob(dirname(__DIR__) . '/src/*.php') ?: [], glob(dirname(__DIR__) . '/src/Exception/*.php') ?: []);
        $thrown = 0;
        foreach ($files as $file) {
            $source = (string) file_get_contents($file);
            preg_match_all('/\bthrow\s+(new\s+)?([^;(]*)/', $source, $throws, PREG_SET_ORDER);
            foreach ($throws as [$statement, $new, $what]) {
                $thrown++;
                self::assertNotSame('', $new, basename($file) . " rethrows something: {$statement}");
                self::assertContains(trim($what), $exceptions, basename($file) . " throws {$what}");
            }
            self::assertDoesNotMatchRegularExpression('/@\s*[a-z_]+\(/', $source, basename($file) . ' silences an error with @');
        }
        self::assertGreaterThan(20, $thrown);
    }
}
