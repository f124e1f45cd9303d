<?php
// kep serve from PHP (no extensions: streams and json). Login with КЭП:
//   $ch = kep('/v1/login/challenges', ['origin' => 'https://portal.example.ru']);
//   ... the browser signs $ch with kep.js (kep.login) and posts the response back ...
//   [$status, $who] = kep('/v1/login/verify', ['origin' => 'https://portal.example.ru', 'response' => $response]);
//   if ($status === 200) { $_SESSION['snils'] = $who['snils']; }   // else $who['reason']
// Verify a (small) detached signature: base64 in JSON; stream big files with multipart (curl).
function kep(string $path, array $body): array {
    $ctx = stream_context_create(['http' => [
        'method' => 'POST', 'ignore_errors' => true, 'timeout' => 600,
        'header' => "Content-Type: application/json\r\nAuthorization: Bearer " . getenv('KEP_API_KEY') . "\r\n",
        'content' => json_encode($body, JSON_UNESCAPED_SLASHES),
    ]]);
    $url = (getenv('KEP_URL') ?: 'http://127.0.0.1:8780') . $path;
    $answer = file_get_contents($url, false, $ctx);
    preg_match('{HTTP/\S+ (\d+)}', $http_response_header[0], $m);
    return [(int)$m[1], json_decode($answer, true)];
}

if (PHP_SAPI === 'cli' && isset($argv[1]) && $argv[1] === 'verify') {
    [$status, $report] = kep('/v1/signatures/verify', [
        'signature' => base64_encode(file_get_contents($argv[2])),
        'content' => base64_encode(file_get_contents($argv[3])),
        'options' => ['profile' => 'cades-bes'],
    ]);
    echo $status === 200 ? $report['indication'] : $report['error']['code'], "\n";
}
