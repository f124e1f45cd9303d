package diagnose

// The codes of the findings. They are stable: pages and support scripts
// match on them.
const (
	ModuleNotFound           = "MODULE_NOT_FOUND"
	ModuleLoadFailed         = "MODULE_LOAD_FAILED"
	PCSCNotRunning           = "PCSC_NOT_RUNNING"
	TokenNotPresent          = "TOKEN_NOT_PRESENT"
	PINIncorrect             = "PIN_INCORRECT"
	PINFinalTry              = "PIN_FINAL_TRY"
	PINLocked                = "PIN_LOCKED"
	NoCertificates           = "NO_CERTIFICATES"
	CertExpired              = "CERT_EXPIRED"
	CertExpiring             = "CERT_EXPIRING"
	CertNotYetValid          = "CERT_NOT_YET_VALID"
	CertRevoked              = "CERT_REVOKED"
	RevocationUnknown        = "REVOCATION_UNKNOWN"
	ChainIncomplete          = "CHAIN_INCOMPLETE"
	ChainNotChecked          = "CHAIN_NOT_CHECKED"
	RootNotTrusted           = "ROOT_NOT_TRUSTED"
	IssuerNotAccredited      = "ISSUER_NOT_ACCREDITED"
	KeyCertMismatch          = "KEY_CERT_MISMATCH"
	AlgorithmUnsupported     = "ALGORITHM_UNSUPPORTED"
	ClockSkew                = "CLOCK_SKEW"
	AgentUnreachable         = "AGENT_UNREACHABLE"
	PortTaken                = "PORT_TAKEN"
	LocalNetworkAccessDenied = "LOCAL_NETWORK_ACCESS_DENIED"
	OriginNotApproved        = "ORIGIN_NOT_APPROVED"
	CertOK                   = "CERT_OK"
)

// entry is a code's fixed texts. Messages may hold %s verbs filled from the
// finding's arguments (dates, names), in the order given to newFinding.
type entry struct {
	severity     Severity
	en, ru       string
	fixEN, fixRU string
}

var catalogue = map[string]entry{
	ModuleNotFound: {Error,
		"No token driver (PKCS#11 module) is installed.",
		"Не установлен драйвер токена (модуль PKCS#11).",
		"Install the driver of your token: Rutoken — «Драйверы Рутокен» (librtpkcs11ecp) from rutoken.ru; JaCarta — «Единый клиент JaCarta» (libjcPKCS11-2) from aladdin-rd.ru; SafeNet eToken — SafeNet Authentication Client; smart cards — OpenSC. Or name the module with --module.",
		"Установите драйвер вашего токена: Рутокен — «Драйверы Рутокен» (librtpkcs11ecp) с rutoken.ru; JaCarta — «Единый клиент JaCarta» (libjcPKCS11-2) с aladdin-rd.ru; SafeNet eToken — SafeNet Authentication Client; смарт-карты — OpenSC. Или укажите модуль параметром --module."},
	ModuleLoadFailed: {Error,
		"The token driver %s cannot be loaded: %s.",
		"Драйвер токена %s не загружается: %s.",
		"Reinstall the driver for this system (64-bit), or remove the path from kep/modules.json.",
		"Переустановите драйвер для этой системы (64-битный) или уберите путь из kep/modules.json."},
	PCSCNotRunning: {Error,
		"The smart card service (pcscd) is not running: USB tokens are not visible.",
		"Не запущена служба смарт-карт (pcscd): USB-токены не видны.",
		"Start it: sudo systemctl enable --now pcscd.socket (package pcscd).",
		"Запустите её: sudo systemctl enable --now pcscd.socket (пакет pcscd)."},
	TokenNotPresent: {Error,
		"No token is connected.",
		"Токен не подключён.",
		"Insert the token into a USB port (try another port, without a hub) and wait for its light.",
		"Вставьте токен в USB-порт (попробуйте другой порт, без разветвителя) и дождитесь, пока загорится индикатор."},
	PINIncorrect: {Warning,
		"A wrong PIN was entered on token %s since the last correct one.",
		"На токене %s вводился неверный PIN-код.",
		"Check the keyboard layout and Caps Lock. The default user PIN of Rutoken is 12345678, of JaCarta 1234567890; the number of tries is limited.",
		"Проверьте раскладку клавиатуры и Caps Lock. PIN-код пользователя Рутокена по умолчанию — 12345678, JaCarta — 1234567890; число попыток ограничено."},
	PINFinalTry: {Warning,
		"Token %s: one more wrong PIN locks it.",
		"Токен %s: ещё один неверный PIN-код заблокирует его.",
		"Do not guess: find the PIN first. If it is lost, the administrator (SO) PIN unlocks the token.",
		"Не подбирайте PIN-код: сначала найдите его. Если он утерян, токен разблокируется PIN-кодом администратора."},
	PINLocked: {Error,
		"The user PIN of token %s is locked.",
		"PIN-код пользователя токена %s заблокирован.",
		"Unlock it with the administrator (SO) PIN in the vendor's utility (Панель управления Рутокен, Единый клиент JaCarta), or ask the organisation that issued the token.",
		"Разблокируйте его PIN-кодом администратора в утилите производителя (Панель управления Рутокен, Единый клиент JaCarta) или обратитесь в организацию, выдавшую токен."},
	NoCertificates: {Error,
		"Token %s holds no certificate.",
		"На токене %s нет сертификатов.",
		"Write the certificate to the token (the CA gives it as a .cer file), or insert the token that holds it.",
		"Запишите сертификат на токен (удостоверяющий центр выдаёт его файлом .cer) или вставьте токен, на котором он есть."},
	CertExpired: {Error,
		"The certificate of %s expired on %s.",
		"Срок действия сертификата %s истёк %s.",
		"Get a new certificate from an accredited CA (for the head of an organisation: the ФНС CA).",
		"Получите новый сертификат в аккредитованном удостоверяющем центре (руководителю организации — в УЦ ФНС)."},
	CertExpiring: {Warning,
		"The certificate of %s expires on %s.",
		"Срок действия сертификата %s истекает %s.",
		"Renew it in time: a signature made after that date is invalid.",
		"Продлите его заранее: подпись после этой даты будет недействительна."},
	CertNotYetValid: {Error,
		"The certificate of %s is valid only from %s.",
		"Сертификат %s начнёт действовать только %s.",
		"Wait until that date, or check the computer's clock.",
		"Дождитесь этой даты или проверьте часы компьютера."},
	CertRevoked: {Error,
		"The certificate of %s is revoked.",
		"Сертификат %s отозван.",
		"A revoked certificate cannot be used again: get a new one from the CA.",
		"Отозванный сертификат больше нельзя использовать: получите новый в удостоверяющем центре."},
	RevocationUnknown: {Warning,
		"Whether the certificate of %s is revoked cannot be checked now.",
		"Не удаётся проверить, отозван ли сертификат %s.",
		"Check the Internet connection; the CA's revocation service may be unavailable for a while.",
		"Проверьте подключение к интернету; служба отзыва удостоверяющего центра может быть временно недоступна."},
	ChainIncomplete: {Error,
		"The chain of %s is incomplete: the certificate of its issuer «%s» is missing.",
		"Цепочка сертификата %s неполная: нет сертификата издателя «%s».",
		"Install the CA's intermediate certificate (from the CA's site or the e-trust.gosuslugi.ru portal).",
		"Установите промежуточный сертификат удостоверяющего центра (с его сайта или с портала e-trust.gosuslugi.ru)."},
	ChainNotChecked: {Warning,
		"The certificate chains and revocation were not checked: no trusted root certificates were given.",
		"Цепочки сертификатов и их отзыв не проверены: не заданы доверенные корневые сертификаты.",
		"Give the roots with --trust CA.pem, or run kep trust update to use the Минцифры list of accredited CAs.",
		"Укажите корневые сертификаты параметром --trust CA.pem или выполните kep trust update, чтобы использовать перечень аккредитованных УЦ Минцифры."},
	RootNotTrusted: {Error,
		"The root certificate «%s» is not trusted.",
		"Корневой сертификат «%s» не является доверенным.",
		"Install the root certificate of the Минцифры head CA (Головной удостоверяющий центр) from e-trust.gosuslugi.ru, or the one your CA gives.",
		"Установите корневой сертификат Головного удостоверяющего центра Минцифры с e-trust.gosuslugi.ru или тот, что выдал ваш УЦ."},
	IssuerNotAccredited: {Error,
		"The issuer «%s» was not an accredited CA at %s.",
		"Издатель «%s» не был аккредитованным УЦ на %s.",
		"A qualified signature needs a certificate from an accredited CA: get one from a CA on the Минцифры list.",
		"Для квалифицированной подписи нужен сертификат аккредитованного УЦ: получите его в УЦ из перечня Минцифры."},
	KeyCertMismatch: {Error,
		"The certificate of %s on the token does not match its private key.",
		"Сертификат %s на токене не соответствует закрытому ключу.",
		"Write the right certificate for this key to the token (the CA issued it for the request made on this token).",
		"Запишите на токен правильный сертификат для этого ключа (УЦ выпустил его по запросу, созданному на этом токене)."},
	AlgorithmUnsupported: {Error,
		"The key of %s uses %s, which is no longer accepted.",
		"Ключ %s использует алгоритм %s, который больше не принимается.",
		"GOST R 34.10-2001 keys may not be used since 2019: get a certificate with a GOST R 34.10-2012 key.",
		"Ключи ГОСТ Р 34.10-2001 нельзя использовать с 2019 года: получите сертификат с ключом ГОСТ Р 34.10-2012."},
	ClockSkew: {Error,
		"This computer's clock differs from %s by %s.",
		"Часы компьютера расходятся с %s на %s.",
		"Set the date, time and time zone right (turn on automatic time synchronisation).",
		"Установите правильные дату, время и часовой пояс (включите автоматическую синхронизацию времени)."},
	AgentUnreachable: {Error,
		"The kep agent is not running (nothing answers at %s).",
		"Программа kep не запущена (по адресу %s никто не отвечает).",
		"Start it: kep agent (or make run for the demo).",
		"Запустите её: kep agent (или make run для демонстрации)."},
	PortTaken: {Error,
		"The kep agent's port %d is held by another user's program (%s): pages would send it their requests.",
		"Порт kep %d занят программой другого пользователя (%s): сайты отправляли бы запросы ей.",
		"Stop that program or tell the administrator; do not type PINs into windows it opens. Until then run kep on another port (kep agent --port N).",
		"Остановите эту программу или сообщите администратору; не вводите PIN-код в окна, которые она открывает. До тех пор запускайте kep на другом порту (kep agent --port N)."},
	LocalNetworkAccessDenied: {Error,
		"The browser does not let the site reach programs on this computer.",
		"Браузер не разрешает сайту обращаться к программам на этом компьютере.",
		"Allow «local network access» for the site in the browser's site settings (the padlock next to the address).",
		"Разрешите сайту «доступ к локальной сети» в настройках сайта в браузере (значок замка у адреса)."},
	OriginNotApproved: {Warning,
		"The site %s is not allowed to use kep yet.",
		"Сайту %s ещё не разрешено пользоваться kep.",
		"Open the site and allow it in kep's window when asked.",
		"Откройте сайт и разрешите ему доступ в окне kep, когда оно появится."},
	CertOK: {Info,
		"The certificate of %s is valid until %s.",
		"Сертификат %s действителен до %s.",
		"", ""},
}
