"""The web console in a real browser: Debian's headless chromium, driven by selenium,
against a running `faasten serve --demo` (scripts/browser-test.sh starts both).

    python console_test.py SERVER_URL SCREENSHOT_DIR

alice signs in, uploads a photo labeled alice,alice with progress, makes a file whose
name is an HTML tag, invokes the demo's thumbnail gate and sees the result labeled
alice,pma and the invocation's logs (followed live when asynchronous); bob signs in and
is refused, with the rule shown. Every page must load without a Content-Security-Policy
violation or a script error. Screenshots go to SCREENSHOT_DIR.
"""
import os
import subprocess
import sys
import tempfile
import unittest

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

SERVER = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FAASTEN_URL", "http://127.0.0.1:8080")
SHOTS = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SCREENSHOTS", "browser-screenshots")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XSS_NAME = "<img src=x onerror=alert(1)>.txt"
THUMBNAIL = "home:<T,pma>:thumbnail"


def path_url(path):
    from urllib.parse import quote
    return SERVER + "/console/fs?path=" + quote(path, safe="")


class ConsoleInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--disable-gpu", "--no-first-run"):
            options.add_argument(argument)
        options.set_capability("goog:loggingOptions", {"browser": "ALL"})
        cls.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.driver.set_page_load_timeout(60)
        cls.wait = WebDriverWait(cls.driver, 60)
        os.makedirs(SHOTS, exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix="faasten-browser-")
        cls.photo = os.path.join(cls.work, "sunset.ppm")
        with open(cls.photo, "wb") as out:
            subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples/photos/sample.py")], stdout=out, check=True)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    # Helpers

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def text(self, element_id):
        return self.driver.find_element(By.ID, element_id).text

    def assert_page_is_clean(self):
        """No CSP violation, no script error, no alert on the page just loaded."""
        # A refused page is a 403 on purpose; the network's own entries say only that.
        problems = [entry["message"] for entry in self.driver.get_log("browser")
                    if entry["level"] in ("SEVERE", "WARNING") and entry.get("source") != "network"]
        self.assertEqual(problems, [], "the browser reported problems")
        with self.assertRaises(NoAlertPresentException):
            self.driver.switch_to.alert.text

    def sign_in(self, name, password):
        self.driver.delete_all_cookies()
        self.driver.get(SERVER + "/")
        self.driver.find_element(By.ID, "signin-name").send_keys(name)
        self.driver.find_element(By.ID, "signin-password").send_keys(password)
        self.driver.find_element(By.ID, "signin-submit").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "principal")))
        self.assertEqual(self.text("principal"), name)
        self.assertIn("acting as " + name, self.text("who"))
        self.assertIn("T,T", self.text("context-label"))

    def invoke(self, path, payload, mode="sync"):
        self.driver.get(path_url(path))
        field = self.driver.find_element(By.ID, "invoke-input")
        field.clear()
        field.send_keys(payload)
        self.driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=%s]" % mode).click()
        self.driver.find_element(By.ID, "invoke-submit").click()

    # The story, in order (unittest runs test methods by name).

    def test_1_alice_uploads_a_photo_and_a_file_named_like_html(self):
        self.driver.get(SERVER + "/")
        self.assertIn("Sign in", self.driver.title)
        self.shot("01-sign-in")
        self.sign_in("alice", "alice-demo-password")
        self.assert_page_is_clean()

        facet = "home:<alice,alice>"
        self.driver.get(path_url(facet))
        self.driver.find_element(By.ID, "upload-file").send_keys(self.photo)
        name = self.driver.find_element(By.ID, "upload-name")
        name.send_keys("sunset.ppm")
        label = self.driver.find_element(By.ID, "upload-label")
        label.clear()
        label.send_keys("alice,alice")
        self.driver.find_element(By.ID, "upload-submit").click()
        # The script uploads with progress, then opens the new blob's page.
        self.wait.until(lambda driver: "sunset.ppm" in driver.current_url)
        self.wait.until(EC.presence_of_element_located((By.ID, "download")))
        self.assertEqual(self.text("object-path"), facet + ":sunset.ppm")
        self.assertIn("a blob of", self.driver.find_element(By.TAG_NAME, "main").text)
        self.assertIn("readable by: alice; vouched for by: alice", self.driver.find_element(By.TAG_NAME, "main").text)
        self.assert_page_is_clean()

        # A file whose name and contents are HTML shows them as text.
        self.driver.get(path_url(facet))
        form = self.driver.find_element(By.ID, "create-form")
        form.find_element(By.NAME, "kind").send_keys("file")
        form.find_element(By.NAME, "name").send_keys(XSS_NAME)
        form.find_element(By.NAME, "data").send_keys("<script>alert(2)</script>")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "file-data")))
        self.assertEqual(self.text("file-data"), "<script>alert(2)</script>")
        self.assert_page_is_clean()
        self.driver.get(path_url(facet))
        names = [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "#entries .entry-name")]
        self.assertIn(XSS_NAME, names)
        self.assertIn("sunset.ppm", names)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "main img"), [])
        self.assertEqual(self.driver.execute_script("return document.querySelectorAll('main script').length"), 0)
        self.assertIn("readable by: alice; vouched for by: alice", self.text("entries"))
        self.assert_page_is_clean()
        self.shot("02-files")

    def test_2_alice_invokes_the_thumbnail_gate_and_sees_its_label_and_logs(self):
        self.driver.get(path_url(THUMBNAIL))
        self.assertIn("anyone may invoke it", self.text("gate-invokers"))
        self.invoke(THUMBNAIL, '{"photo": "home:<alice,alice>:sunset.ppm", "size": [64, 64]}')
        self.wait.until(EC.presence_of_element_located((By.ID, "result-label")))
        self.assertTrue(self.text("result-status").startswith("200"), self.text("result-status"))
        self.assertIn("alice,pma", self.text("result-label"))
        self.assertIn("readable by: alice; vouched for by: pma", self.text("result-label"))
        self.assertIn("thumbnail", self.text("result-body"))
        self.assert_page_is_clean()
        self.shot("03-invoke-result")

        self.driver.find_element(By.ID, "result-invocation").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "invocation-state")))
        self.assertEqual(self.text("invocation-state"), "finished")
        self.assertIn("alice,pma", self.text("invocation-label"))
        self.assertIn("scaled home:<alice,alice>:sunset.ppm", self.text("invocation-logs"))
        self.assert_page_is_clean()

    def test_3_an_asynchronous_invocation_is_followed_live(self):
        self.invoke(THUMBNAIL, '{"photo": "home:<alice,alice>:sunset.ppm", "size": [32, 32]}', mode="async")
        self.wait.until(EC.presence_of_element_located((By.ID, "invocation-state")))
        # The page's script polls until the invocation has finished: no reload here.
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "invocation-state"), "finished"))
        self.wait.until(EC.presence_of_element_located((By.ID, "invocation-logs")))
        self.assertIn("alice,pma", self.text("invocation-label"))
        self.assertIn("scaled", self.text("invocation-logs"))
        self.assert_page_is_clean()
        self.shot("04-invocation")

    def test_4_bob_is_refused_with_the_rule_shown(self):
        self.driver.find_element(By.ID, "sign-out").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "signin-form")))
        self.sign_in("bob", "bob-demo-password")

        # alice's facet: bob may not be shown what is in it.
        self.driver.get(path_url("home:<alice,alice>"))
        self.assertIn("read rule", self.text("problem"))

        # alice's photo through the public gate: it runs, but its result (alice's secrecy)
        # may not be shown to bob.
        self.invoke(THUMBNAIL, '{"photo": "home:<alice,alice>:sunset.ppm", "size": [64, 64]}')
        self.wait.until(EC.presence_of_element_located((By.ID, "problem")))
        problem = self.text("problem")
        self.assertIn("rule: release rule", problem)
        self.assertIn("alice,pma", problem)
        self.assertIn("what to do:", problem)
        self.assertEqual(self.driver.find_elements(By.ID, "result-label"), [])
        self.assert_page_is_clean()
        self.shot("05-bob-refused")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
