<?php
// kep serve from PHP with no extensions (streams and json).
//
//   php kep_client.php verify FILE.sig FILE     # prints the indication
//   php kep_client.php challenge ORIGIN         # prints the challenge JSON
//   php kep_client.php login ORIGIN RESPONSE    # prints who logged in, or why not
//
// KEP_URL (default http://127.0.0.1:8780) and KEP_API_KEY come from the
// environment. In a portal: kep_call('/v1/login/challenges', ...) gives the page
// its challenge, the browser signs it with kep.js (kep.login) and posts the
// response back, and kep_call('/v1/login/verify', ...) says who it is; keep the
// response as the raw JSON the browser sent (decoding and re-encoding it in PHP
// would turn its empty objects into arrays). Small documents go as base64 in
// JSON; stream big ones with multipart (curl, as verify.sh does).
// kep_call returns [HTTP status, decoded answer, raw answer].
function kep_call(string $path, string $json): array {
    $ctx = stream_context_create(['http' => [
        'method' => 'POST', 'ignore_errors' => true, 'timeout' => 600,
        'header' => "Content-Type: application/json\r\nAuthorization: Bearer " . getenv('KEP_API_KEY') . "\r\n",
        'content' => $json,
    ]]);
    $url = (getenv('KEP_URL') ?: 'http://127.0.0.1:8780') . $path;
    $answer = file_get_contents($url, false, $ctx);
    if ($answer === false) {
        fwrite(STDERR, "kep serve: no answer from $url\n");
        exit(2);
    }
    preg_match('{HTTP/\S+ (\d+)}', $http_response_header[0], $m);
    return [(int)$m[1], json_decode($answer, true), $answer];
}

function kep_verify(string $sig, string $content): array {
    return kep_call('/v1/signatures/verify', json_encode([
        'signature' => base64_encode(file_get_contents($sig)),
        'content' => base64_encode(file_get_contents($content)),
        'options' => ['profile' => 'cades-bes'],
    ]));
}

function kep_login(string $origin, string $responseJSON): array {
    return kep_call('/v1/login/verify',
        '{"origin":' . json_encode($origin, JSON_UNESCAPED_SLASHES) . ',"response":' . $responseJSON . '}');
}

if (PHP_SAPI === 'cli' && isset($argv[1])) {
    switch ($argv[1]) {
    case 'verify':
        [$status, $report] = kep_verify($argv[2], $argv[3]);
        if ($status !== 200) {
            fwrite(STDERR, "kep serve: $status {$report['error']['code']}: {$report['error']['message']}\n");
            exit(1);
        }
        $signer = $report['signers'][0]['signer'] ?? [];
        echo $report['indication'], ' ', $signer['surname'] ?? '', ' ', $signer['snils'] ?? '', "\n";
        break;
    case 'challenge':
        // The challenge goes to the page as kep serve wrote it.
        [$status, , $raw] = kep_call('/v1/login/challenges', json_encode(['origin' => $argv[2]], JSON_UNESCAPED_SLASHES));
        echo $raw, "\n";
        exit($status === 200 ? 0 : 1);
    case 'login':
        [$status, $who] = kep_login($argv[2], file_get_contents($argv[3]));
        if ($status === 200) {
            echo 'OK ', $who['surname'], ' ', $who['givenName'], ' СНИЛС ', $who['snils'] ?? '', "\n";
        } else {
            echo 'REFUSED ', $who['reason'] ?? $who['error']['code'], "\n";
            exit(1);
        }
        break;
    }
}
